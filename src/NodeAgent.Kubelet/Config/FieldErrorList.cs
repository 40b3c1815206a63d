namespace NodeAgent.Kubelet.Config;

/// <summary>Field errors as the API server words them: <c>field: Invalid value: "x": why</c>.</summary>
internal sealed class FieldErrorList : List<(string Field, string Reason)>
{
    public void Required(string field, string detail = "") =>
        Add((field, detail.Length == 0 ? "Required value" : $"Required value: {detail}"));

    public void Invalid(string field, string value, string detail) =>
        Add((field, $"Invalid value: {ValueText.Quote(value)}: {detail}"));

    public void Invalid(string field, long value, string detail) =>
        Add((field, $"Invalid value: {value}: {detail}"));

    public void NotSupported(string field, string value, IEnumerable<string> allowed) =>
        Add((field, $"Unsupported value: {ValueText.Quote(value)}: supported values: {string.Join(", ", allowed.Select(a => $"\"{a}\""))}"));

    public void Forbidden(string field, string detail) => Add((field, $"Forbidden: {detail}"));

    public void Duplicate(string field, string value) => Add((field, $"Duplicate value: {ValueText.Quote(value)}"));

    public void NotFound(string field, string value) => Add((field, $"Not found: {ValueText.Quote(value)}"));
}
