namespace NodeAgent.Tests.Support;

/// <summary>A scratch directory removed on dispose, even when it holds read-only files.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "nodeagent-test")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
