namespace NodeAgent.TestApiServer.Api;

/// <summary>An API error to answer with a Status body: code, reason, message and optional details.</summary>
public sealed class ApiError(int code, string reason, string message, string? name = null, string? kind = null, string? group = null) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    public string? Name { get; } = name;
    public string? Kind { get; } = kind;
    public string? Group { get; } = group;
    public List<(string Type, string Message, string Field)> Causes { get; } = [];

    public static ApiError BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiError NotFound(ResourceInfo r, string name) => new(404, "NotFound", $"{r.QualifiedName} \"{name}\" not found", name, r.Plural, r.Group);

    public static ApiError Forbidden(ResourceInfo? r, string? name, string message) =>
        new(403, "Forbidden", r is null ? message : $"{r.QualifiedName}{(name is null ? "" : $" \"{name}\"")} is forbidden: {message}", name, r?.Plural, r?.Group);

    public static ApiError Conflict(ResourceInfo r, string name, string why) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {r.QualifiedName} \"{name}\": {why}", name, r.Plural, r.Group);

    public static ApiError Invalid(ResourceInfo r, string name, params (string Field, string Type, string Detail)[] causes)
    {
        var text = string.Join(", ", causes.Select(c => $"{c.Field}: {c.Detail}"));
        var e = new ApiError(422, "Invalid", $"{r.Kind} \"{name}\" is invalid: {(causes.Length > 1 ? $"[{text}]" : text)}", name, r.Kind, r.Group);
        foreach (var c in causes)
        {
            e.Causes.Add((c.Type, c.Detail, c.Field));
        }
        return e;
    }
}
