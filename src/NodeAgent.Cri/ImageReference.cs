using System.Text.RegularExpressions;

namespace NodeAgent.Cri;

/// <summary>
/// A parsed image reference, normalised as Docker and containerd do: <c>busybox</c> is
/// <c>docker.io/library/busybox:latest</c>; a reference with a digest keeps its tag (if any) and digest.
/// </summary>
public sealed partial record ImageReference(string Domain, string Path, string? Tag, string? Digest)
{
    public const string DefaultDomain = "docker.io";
    private const string LegacyDefaultDomain = "index.docker.io";
    private const string OfficialRepoPrefix = "library/";

    /// <summary>Repository name with its domain, e.g. <c>docker.io/library/busybox</c>.</summary>
    public string Name => Domain + "/" + Path;

    /// <summary>The fully normalised reference string.</summary>
    public override string ToString() =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    /// <summary>The short form Docker shows: <c>busybox:latest</c>, <c>localhost/busybox:latest</c>.</summary>
    public string Familiar
    {
        get
        {
            var name = Name;
            if (Domain == DefaultDomain)
            {
                name = Path.StartsWith(OfficialRepoPrefix, StringComparison.Ordinal) && Path.IndexOf('/', OfficialRepoPrefix.Length) < 0
                    ? Path[OfficialRepoPrefix.Length..]
                    : Path;
            }
            return name + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);
        }
    }

    /// <summary>Parses and normalises; a reference without tag or digest gets <c>:latest</c>.</summary>
    /// <exception cref="InvalidImageReferenceException">Naming the reference and the reason.</exception>
    public static ImageReference Parse(string reference)
    {
        if (TryParse(reference, out var parsed, out var reason))
        {
            return parsed;
        }
        throw new InvalidImageReferenceException($"invalid image reference \"{reference}\": {reason}");
    }

    public static bool TryParse(string reference, out ImageReference parsed, out string reason)
    {
        parsed = null!;
        if (string.IsNullOrEmpty(reference))
        {
            reason = "empty reference";
            return false;
        }
        if (reference.Length > 4096)
        {
            reason = "reference too long";
            return false;
        }
        string? digest = null;
        var rest = reference;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                reason = $"invalid digest \"{digest}\" (want sha256: and 64 lowercase hex digits)";
                return false;
            }
        }
        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                reason = $"invalid tag \"{tag}\"";
                return false;
            }
        }
        if (rest.Length == 0)
        {
            reason = "missing repository name";
            return false;
        }
        string domain;
        string path;
        var slash = rest.IndexOf('/');
        var first = slash < 0 ? "" : rest[..slash];
        if (slash >= 0 && (first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsUpper)))
        {
            domain = first;
            path = rest[(slash + 1)..];
            if (!DomainPattern().IsMatch(domain))
            {
                reason = $"invalid registry host \"{domain}\"";
                return false;
            }
        }
        else
        {
            domain = DefaultDomain;
            path = rest;
        }
        if (domain == LegacyDefaultDomain)
        {
            domain = DefaultDomain;
        }
        if (domain == DefaultDomain && !path.Contains('/'))
        {
            path = OfficialRepoPrefix + path;
        }
        if (path.Any(char.IsUpper))
        {
            reason = "repository name must be lowercase";
            return false;
        }
        if (!PathPattern().IsMatch(path))
        {
            reason = $"invalid repository name \"{path}\"";
            return false;
        }
        if ((domain + "/" + path).Length > 255)
        {
            reason = "repository name must not be more than 255 characters";
            return false;
        }
        if (tag is null && digest is null)
        {
            tag = "latest";
        }
        parsed = new ImageReference(domain, path, tag, digest);
        reason = "";
        return true;
    }

    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex DigestPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[a-fA-F0-9:]+\](?::[0-9]+)?$")]
    private static partial Regex DomainPattern();

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$")]
    private static partial Regex PathPattern();
}
