using System.Text.RegularExpressions;

namespace NodeAgent.Images;

/// <summary>
/// An image reference normalised the way Docker and containerd do: <c>busybox</c> is
/// <c>docker.io/library/busybox:latest</c>, a first component with a dot, a colon or <c>localhost</c> is a registry.
/// </summary>
public sealed partial record ImageReference(string Domain, string Path, string? Tag, string? Digest)
{
    public const string DefaultDomain = "docker.io";

    /// <summary>Repository without tag or digest: <c>docker.io/library/busybox</c>.</summary>
    public string Repository => $"{Domain}/{Path}";

    public override string ToString() =>
        Repository + (Tag is null ? string.Empty : ":" + Tag) + (Digest is null ? string.Empty : "@" + Digest);

    /// <summary>Parses and normalises; adds the <c>latest</c> tag when neither tag nor digest is given.</summary>
    public static ImageReference Parse(string reference)
    {
        if (!TryParse(reference, out var parsed, out var error))
        {
            throw new ImageException(ImageErrorKind.InvalidReference, $"invalid image reference \"{reference}\": {error}");
        }

        return parsed;
    }

    public static bool TryParse(string reference, out ImageReference parsed, out string error)
    {
        parsed = null!;
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(reference))
        {
            error = "empty reference";
            return false;
        }

        var rest = reference.Trim();
        string? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                error = $"invalid digest \"{digest}\"";
                return false;
            }
        }

        string? tag = null;
        var lastColon = rest.LastIndexOf(':');
        if (lastColon > rest.LastIndexOf('/'))
        {
            tag = rest[(lastColon + 1)..];
            rest = rest[..lastColon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"invalid tag \"{tag}\"";
                return false;
            }
        }

        var domain = DefaultDomain;
        var path = rest;
        var slash = rest.IndexOf('/');
        if (slash > 0)
        {
            var first = rest[..slash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsUpper))
            {
                domain = first;
                path = rest[(slash + 1)..];
            }
        }

        if (domain == "index.docker.io")
        {
            domain = DefaultDomain;
        }

        if (domain == DefaultDomain && !path.Contains('/'))
        {
            path = "library/" + path;
        }

        if (path.Length == 0 || !PathPattern().IsMatch(path))
        {
            error = path.Any(char.IsUpper) ? "repository name must be lowercase" : $"invalid repository name \"{path}\"";
            return false;
        }

        if (tag is null && digest is null)
        {
            tag = "latest";
        }

        parsed = new ImageReference(domain, path, tag, digest);
        return true;
    }

    /// <summary>The short form users type: <c>busybox:latest</c> for Docker Hub library images.</summary>
    public string Familiar()
    {
        var repo = Domain == DefaultDomain
            ? (Path.StartsWith("library/", StringComparison.Ordinal) ? Path[8..] : Path)
            : Repository;
        return repo + (Tag is null ? string.Empty : ":" + Tag) + (Digest is null ? string.Empty : "@" + Digest);
    }

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$")]
    private static partial Regex PathPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex DigestPattern();
}
