using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Kubelet;

/// <summary>
/// Every broken manifest of Corpus/ is rejected with an error naming the file, the line (syntax and type errors),
/// the object and field, and the reason in the API server's words (kubelet's config/common.go decode + validation).
/// </summary>
public class CorpusTests
{
    private static readonly string CorpusDir = Path.Combine(AppContext.BaseDirectory, "Kubelet", "Corpus");

    private static ManifestDecodeResult Decode(string file)
    {
        var path = Path.Combine(CorpusDir, file);
        return new PodManifestDecoder("node1", PodSourceNames.File).Decode(path, File.ReadAllText(path));
    }

    [Theory]
    [InlineData("malformed-yaml.yaml", ":9:11: ", "malformed YAML: While scanning a plain scalar value, found invalid mapping.")]
    [InlineData("malformed-json.json", ":6:60: ", "malformed JSON: ']' is invalid without a matching open.")]
    [InlineData("wrong-type.yaml", ":10:22: spec.containers[0].ports[0].containerPort: ", "cannot decode Pod: The JSON value could not be converted to System.Int32.")]
    [InlineData("wrong-type.json", ":1:", "cannot decode Pod at $.spec.containers[0].ports[0].containerPort: ")]
    [InlineData("unknown-kind.yaml", ": kind: ", "Unsupported value: \"Deployment\": supported values: \"Pod\", \"PodList\"")]
    [InlineData("wrong-apiversion.yaml", ": apiVersion: ", "Unsupported value: \"apps/v1\": supported values: \"v1\"")]
    [InlineData("missing-kind.yaml", ": kind: ", "Required value: only Pod and PodList are accepted")]
    [InlineData("missing-name.yaml", ": metadata.name: ", "Required value: name or generateName is required")]
    [InlineData("invalid-pod-name.yaml", ": pod \"Web_1\": metadata.name: ", "Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of")]
    [InlineData("invalid-container-name.yaml", ": pod \"web\": spec.containers[0].name: ", "Invalid value: \"Web.Server\": a lowercase RFC 1123 label must consist of")]
    [InlineData("no-containers.yaml", ": pod \"web\": spec.containers: ", "Required value")]
    [InlineData("missing-image.yaml", ": pod \"web\": spec.containers[0].image: ", "Required value")]
    [InlineData("duplicate-containers.yaml", ": pod \"web\": spec.containers[1].name: ", "Duplicate value: \"setup\"")]
    [InlineData("bad-restart-policy.yaml", ": pod \"web\": spec.restartPolicy: ", "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"")]
    [InlineData("multi-doc-second-bad.yaml", ": document 2 (line 9), pod \"bad\": spec.containers[0].image: ", "Required value")]
    [InlineData("podlist-bad-item.yaml", ": items[1], pod \"two\": spec.containers: ", "Required value")]
    [InlineData("empty.yaml", ": ", "no objects: the manifest is empty")]
    public void BrokenManifestIsRejectedWithFileLineFieldAndReason(string file, string where, string reason)
    {
        var result = Decode(file);

        var error = Assert.Single(result.Errors);
        var text = error.ToString();
        var path = Path.Combine(CorpusDir, file);
        Assert.StartsWith(path + where, text, StringComparison.Ordinal);
        Assert.Contains(reason, text, StringComparison.Ordinal);
        Assert.Equal(path, error.Origin);
    }

    [Theory]
    [InlineData("malformed-yaml.yaml", 9)]
    [InlineData("malformed-json.json", 6)]
    [InlineData("wrong-type.yaml", 10)]
    public void SyntaxAndTypeErrorsCarryTheLine(string file, int line)
    {
        var error = Assert.Single(Decode(file).Errors);
        Assert.Equal(line, error.Line);
        Assert.NotNull(error.Column);
    }

    [Fact]
    public void ABadDocumentDoesNotStopTheOthersOfItsFile()
    {
        var result = Decode("multi-doc-second-bad.yaml");

        Assert.Equal("good-node1", Assert.Single(result.Pods).Metadata.Name);
        Assert.Single(result.Errors);
    }

    [Fact]
    public void ABadPodListItemDoesNotStopTheOthers()
    {
        var result = Decode("podlist-bad-item.yaml");

        Assert.Equal("one-node1", Assert.Single(result.Pods).Metadata.Name);
    }

    [Fact]
    public void FieldErrorsNameTheFieldAndTheObject()
    {
        var error = Assert.Single(Decode("missing-image.yaml").Errors);

        Assert.Equal("spec.containers[0].image", error.Field);
        Assert.Equal("pod \"web\"", error.Object);
        Assert.Null(error.Line);
    }

    [Fact]
    public async Task DuplicatePodNamesAcrossFilesKeepTheFirstAndReportTheRest()
    {
        var dir = Path.Combine(CorpusDir, "duplicates");
        var logger = new ListLogger<FilePodSource>();
        var source = new FilePodSource(new FilePodSourceOptions { ManifestPath = dir, NodeName = "node1", CheckFrequency = TimeSpan.FromHours(1) }, logger, TimeProvider.System);
        var output = System.Threading.Channels.Channel.CreateUnbounded<PodSourceUpdate>();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(output.Writer, cts.Token);

        var snapshot = await output.Reader.NextAsync();
        await cts.CancelAsync();
        await run;

        var pod = Assert.Single(snapshot.Pods);
        Assert.Equal("nginx:1.27", pod.Spec.Containers[0].Image);
        var error = Assert.Single(source.CurrentErrors);
        Assert.Equal(
            $"{Path.Combine(dir, "b.yaml")}: pod \"default/web-node1\": metadata.name: Duplicate value: \"default/web-node1\": already defined in {Path.Combine(dir, "a.yaml")}; ignoring this pod",
            error.ToString());
        Assert.Contains(logger.Errors, e => e.Contains(error.ToString(), StringComparison.Ordinal));
    }
}
