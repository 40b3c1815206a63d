using System.Text;

namespace NodeAgent.Kubelet.Config;

/// <summary>A problem with one manifest: where it is, which object and field, and why.</summary>
/// <param name="Origin">The file path or URL.</param>
/// <param name="Line">1-based line for syntax and type errors, when known.</param>
/// <param name="Column">1-based column, when known.</param>
/// <param name="Object">The object, e.g. <c>pod "web"</c> or <c>document 2</c>.</param>
/// <param name="Field">The field path, e.g. <c>spec.containers[0].image</c>.</param>
/// <param name="Reason">What is wrong, in the API server's words where it has some.</param>
public sealed record ManifestError(string Origin, int? Line, int? Column, string? Object, string? Field, string Reason)
{
    /// <summary><c>origin:line:column: object: field: reason</c>, leaving out what is unknown.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Origin);
        if (Line is { } line)
        {
            sb.Append(':').Append(line);
            if (Column is { } column)
            {
                sb.Append(':').Append(column);
            }
        }

        sb.Append(": ");
        if (Object is not null)
        {
            sb.Append(Object).Append(": ");
        }

        if (Field is not null)
        {
            sb.Append(Field).Append(": ");
        }

        return sb.Append(Reason).ToString();
    }
}
