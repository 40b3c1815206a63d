namespace NodeAgent.Images;

/// <summary>An overlayfs mount: lower directories topmost first, a private upper and work directory.</summary>
public sealed record OverlayMount(IReadOnlyList<string> LowerDirs, string UpperDir, string WorkDir)
{
    public string Options => $"lowerdir={string.Join(':', LowerDirs)},upperdir={UpperDir},workdir={WorkDir}";
}
