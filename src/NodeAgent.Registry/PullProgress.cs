namespace NodeAgent.Registry;

/// <summary>Where a pull stands: bytes of layers fetched (including layers already present) of the total, layers done.</summary>
public sealed record PullProgress(string Reference, long BytesDone, long BytesTotal, int LayersDone, int LayersTotal, bool Completed)
{
    public override string ToString() =>
        $"{Reference}: {Mb(BytesDone)}/{Mb(BytesTotal)} MB, {LayersDone}/{LayersTotal} layers" + (Completed ? ", done" : "");

    private static string Mb(long b) => (b / 1048576.0).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
}
