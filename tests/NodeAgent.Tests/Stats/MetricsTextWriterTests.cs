using System.Text;
using NodeAgent.Kubelet.Stats;

namespace NodeAgent.Tests.Stats;

/// <summary>The Prometheus text writer with hostile label values (they come from manifests) and odd numbers.</summary>
public sealed class MetricsTextWriterTests
{
    [Fact]
    public async Task Label_values_are_escaped_and_the_text_parses()
    {
        using var body = new MemoryStream();
        using (var w = new MetricsTextWriter(body))
        {
            w.Family("container_threads"u8, "Number of threads running inside the container"u8, "gauge"u8);
            string[] hostile = ["quote\"d", "back\\slash", "new\nline", "ünïcödé", "} 1 2\nfake_metric 3", ""];
            foreach (var value in hostile)
            {
                w.Raw("container_threads{"u8);
                w.Label("pod"u8, value);
                w.Raw(","u8);
                w.Raw(MetricsTextWriter.Encode("namespace", value));
                w.Raw("}"u8);
                w.Value(42UL);
                w.End(1700000000000);
            }

            w.Family("container_start_time_seconds"u8, "Start time of the container since unix epoch in seconds."u8, "gauge"u8);
            foreach (var (v, i) in new[] { 1.7e9 + 0.125, double.PositiveInfinity, double.NaN, 0.0, 1e-9 }.Select((v, i) => (v, i)))
            {
                w.Raw("container_start_time_seconds{"u8);
                w.Label("pod"u8, $"p{i}");
                w.Raw("}"u8);
                w.Value(v);
                w.End(null);
            }

            await w.FlushAsync(CancellationToken.None);
        }

        var text = Encoding.UTF8.GetString(body.ToArray());
        Assert.Contains("container_threads{pod=\"quote\\\"d\",namespace=\"quote\\\"d\"} 42 1700000000000\n", text);
        Assert.Contains("pod=\"back\\\\slash\"", text);
        Assert.Contains("pod=\"new\\nline\"", text);
        Assert.Contains("pod=\"} 1 2\\nfake_metric 3\"", text);
        Assert.DoesNotContain("\nfake_metric", text);
        Assert.Contains("{pod=\"p1\"} +Inf\n", text);
        Assert.Contains("{pod=\"p2\"} NaN\n", text);
        Assert.Contains("{pod=\"p0\"} 1700000000.125\n", text);
        Assert.Empty(await Promtool.CheckAsync(body.ToArray()));
    }

    [Fact]
    public async Task A_document_larger_than_the_buffer_arrives_whole_in_chunks()
    {
        var chunks = new ChunkCountingStream();
        using (var w = new MetricsTextWriter(chunks))
        {
            w.Family("container_threads"u8, "Number of threads running inside the container"u8, "gauge"u8);
            for (int i = 0; i < 20000; i++)
            {
                w.Raw("container_threads{"u8);
                w.Label("pod"u8, "pod-" + i);
                w.Raw("}"u8);
                w.Value((ulong)i);
                w.End(null);
                await w.FlushIfFullAsync(CancellationToken.None);
            }

            await w.FlushAsync(CancellationToken.None);
        }

        var text = Encoding.UTF8.GetString(chunks.ToArray());
        Assert.Equal(20002, text.Count(c => c == '\n'));
        Assert.True(chunks.Writes > 5, $"{chunks.Writes} writes: the document was not streamed in chunks");
        Assert.EndsWith("container_threads{pod=\"pod-19999\"} 19999\n", text);
    }

    private sealed class ChunkCountingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }
    }
}
