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
    [InlineData("invalid-pod-name.yaml", ":4:9: pod \"Web_1\": metadata.name: ", "Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of")]
    [InlineData("invalid-container-name.yaml", ":7:11: pod \"web\": spec.containers[0].name: ", "Invalid value: \"Web.Server\": a lowercase RFC 1123 label must consist of")]
    [InlineData("no-containers.yaml", ": pod \"web\": spec.containers: ", "Required value")]
    [InlineData("missing-image.yaml", ": pod \"web\": spec.containers[0].image: ", "Required value")]
    [InlineData("duplicate-containers.yaml", ":12:11: pod \"web\": spec.containers[1].name: ", "Duplicate value: \"setup\"")]
    [InlineData("bad-restart-policy.yaml", ":6:18: pod \"web\": spec.restartPolicy: ", "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"")]
    [InlineData("multi-doc-second-bad.yaml", ": document 2 (line 9), pod \"bad\": spec.containers[0].image: ", "Required value")]
    [InlineData("podlist-bad-item.yaml", ":13:17: items[1], pod \"two\": spec.containers: ", "Required value")]
    [InlineData("empty.yaml", ": ", "no objects: the manifest is empty")]
    [InlineData("unclosed-flow-mapping.yaml", ":3:16: ", "malformed YAML: unexpected end of the text or of a flow collection")]
    [InlineData("deep-flow-nesting.yaml", ":5:73: ", "malformed YAML: exceeded max depth of 64 (nested mappings and sequences)")]
    [InlineData("alias-bomb.yaml", ":9:20: ", "malformed YAML: document contains excessive aliasing")]
    [InlineData("null-container.yaml", ":6:16: pod \"web\": spec.containers[0]: ", "Required value: list items must not be null")]
    [InlineData("null-init-container.yaml", ":7:5: pod \"web\": spec.initContainers[0]: ", "Required value: list items must not be null")]
    [InlineData("null-volume.yaml", ":9:13: pod \"web\": spec.volumes[0]: ", "Required value: list items must not be null")]
    [InlineData("null-port.yaml", ":9:13: pod \"web\": spec.containers[0].ports[0]: ", "Required value: list items must not be null")]
    [InlineData("null-env.yaml", ":10:7: pod \"web\": spec.containers[0].env[0]: ", "Required value: list items must not be null")]
    [InlineData("null-toleration.yaml", ":9:17: pod \"web\": spec.tolerations[0]: ", "Required value: list items must not be null")]
    [InlineData("podlist-null-item.yaml", ":10:3: items[1]: ", "Required value: list items must not be null")]
    [InlineData("quantity-dots.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"1.5.5\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity-dots-suffix.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"1.5.5Gi\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity-letters.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"abc\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity-empty.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity-suffix-digits.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"1Ki1\": unable to parse quantity's suffix")]
    [InlineData("quantity-lowercase-suffix.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"1gi\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity-infinity.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"Infinity\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity-hex.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"0x10\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("quantity-huge.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: \"1e400\": must be no more than 9223372036854775807 (2^63-1)")]
    [InlineData("quantity-negative.yaml", ":11:17: pod \"web\": spec.containers[0].resources.limits[memory]: ", "Invalid value: -1: must be greater than or equal to 0")]
    [InlineData("quantity-null.yaml", ":11:13: pod \"web\": spec.containers[0].resources.limits[cpu]: ", "Invalid value: null: must be a quantity such as \"500m\" or \"1Gi\"")]
    [InlineData("quantity-request-above-limit.yaml", ":13:14: pod \"web\": spec.containers[0].resources.requests[cpu]: ", "Invalid value: \"1\": must be less than or equal to cpu limit of 500m")]
    [InlineData("creation-timestamp.yaml", ":5:22: pod \"web\": metadata.creationTimestamp: ", "Invalid value: \"yesterday\": must be an RFC 3339 date-time")]
    [InlineData("grace-period-huge.yaml", ":6:34: pod \"web\": spec.terminationGracePeriodSeconds: ", "Invalid value: 9223372036854775807: must be no more than 4294967")]
    [InlineData("grace-period-timer.yaml", ":6:34: pod \"web\": spec.terminationGracePeriodSeconds: ", "Invalid value: 315360000: must be no more than 4294967")]
    [InlineData("grace-period-negative.yaml", ":6:34: pod \"web\": spec.terminationGracePeriodSeconds: ", "Invalid value: -5: must be greater than or equal to 0")]
    [InlineData("active-deadline-negative.yaml", ":6:26: pod \"web\": spec.activeDeadlineSeconds: ", "Invalid value: -1: must be between 1 and 2147483647, inclusive")]
    [InlineData("run-as-user-negative.yaml", ":10:18: pod \"web\": spec.containers[0].securityContext.runAsUser: ", "Invalid value: -1: must be between 0 and 2147483647, inclusive")]
    [InlineData("pod-run-as-group-negative.yaml", ":7:17: pod \"web\": spec.securityContext.runAsGroup: ", "Invalid value: -2: must be between 0 and 2147483647, inclusive")]
    [InlineData("fs-group-negative.yaml", ":7:14: pod \"web\": spec.securityContext.fsGroup: ", "Invalid value: -3: must be between 0 and 2147483647, inclusive")]
    [InlineData("supplemental-group-negative.yaml", ":7:30: pod \"web\": spec.securityContext.supplementalGroups[1]: ", "Invalid value: -4: must be between 0 and 2147483647, inclusive")]
    [InlineData("uid-slash.yaml", ":5:8: pod \"web\": metadata.uid: ", "Invalid value: \"a/b\": must consist of letters, digits, '-' or '.'")]
    [InlineData("uid-dotdot.yaml", ":5:8: pod \"web\": metadata.uid: ", "Invalid value: \"..\": must consist of letters, digits, '-' or '.'")]
    [InlineData("uid-traversal.yaml", ":5:8: pod \"web\": metadata.uid: ", "Invalid value: \"../../victim\": must consist of letters, digits, '-' or '.'")]
    [InlineData("dns-option-null-name.yaml", ":8:12: pod \"web\": spec.dnsConfig.options[0].name: ", "Required value")]
    [InlineData("hostip-injection.yaml", ":12:15: pod \"web\": spec.containers[0].ports[0].hostIP: ", "Invalid value: \"10.9.9.9\\n-A OUTPUT -m comment --comment INJECTED -j ACCEPT\\n#\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    [InlineData("bad-protocol.yaml", ":11:17: pod \"web\": spec.containers[0].ports[0].protocol: ", "Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"")]
    [InlineData("host-port-out-of-range.yaml", ":11:17: pod \"web\": spec.containers[0].ports[0].hostPort: ", "Invalid value: 70000: must be between 1 and 65535, inclusive")]
    [InlineData("mount-path-empty.yaml", ":11:18: pod \"web\": spec.containers[0].volumeMounts[0].mountPath: ", "Required value")]
    [InlineData("mount-path-root.yaml", ":11:18: pod \"web\": spec.containers[0].volumeMounts[0].mountPath: ", "Invalid value: \"/\": must not be the root directory")]
    [InlineData("mount-path-relative.yaml", ":11:18: pod \"web\": spec.containers[0].volumeMounts[0].mountPath: ", "Invalid value: \"data\": must be an absolute path")]
    [InlineData("nul-working-dir.yaml", ":9:17: pod \"web\": spec.containers[0].workingDir: ", "Invalid value: \"/tmp\\x00/etc\": must not contain a NUL byte")]
    [InlineData("nul-mount-path.yaml", ":11:18: pod \"web\": spec.containers[0].volumeMounts[0].mountPath: ", "Invalid value: \"/data\\x00x\": must not contain a NUL byte")]
    [InlineData("nul-host-path.yaml", ":12:13: pod \"web\": spec.volumes[0].hostPath.path: ", "Invalid value: \"/tmp\\x00/etc\": must not contain a NUL byte")]
    [InlineData("host-path-relative.yaml", ":12:13: pod \"web\": spec.volumes[0].hostPath.path: ", "Invalid value: \"etc\": must be an absolute path")]
    [InlineData("name-newline.yaml", ":4:9: pod \"foo\\n\": metadata.name: ", "Invalid value: \"foo\\n\": a lowercase RFC 1123 subdomain")]
    [InlineData("namespace-newline.yaml", ":5:14: pod \"web\": metadata.namespace: ", "Invalid value: \"default\\n\": a lowercase RFC 1123 label")]
    [InlineData("container-name-newline.yaml", ":7:11: pod \"web\": spec.containers[0].name: ", "Invalid value: \"web\\n\": a lowercase RFC 1123 label")]
    [InlineData("volume-name-newline.yaml", ":10:11: pod \"web\": spec.volumes[0].name: ", "Invalid value: \"data\\n\": a lowercase RFC 1123 label")]
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
    public void AByteOrderMarkIsAccepted()
    {
        Assert.Equal((byte)0xEF, File.ReadAllBytes(Path.Combine(CorpusDir, "bom.yaml"))[0]);
        var result = Decode("bom.yaml");

        Assert.Empty(result.Errors);
        Assert.Equal("web-node1", Assert.Single(result.Pods).Metadata.Name);
    }

    [Fact]
    public void TheAliasBombIsRefusedAfterAFewThousandNodes()
    {
        var result = Decode("alias-bomb.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("excessive aliasing", error.Reason, StringComparison.Ordinal);
        // 9^9 = 387,420,489 strings if expanded; go-yaml's ratio stops it once aliases exceed 99 % of > 1,000 nodes.
        Assert.True(int.Parse(System.Text.RegularExpressions.Regex.Match(error.Reason, @"of (\d+) nodes").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < 10_000, error.Reason);
    }

    [Fact]
    public void NullPodListItemsAndBadItemsDoNotStopTheGoodOnes()
    {
        Assert.Equal("one-node1", Assert.Single(Decode("podlist-null-item.yaml").Pods).Metadata.Name);
    }

    [Fact]
    public void DeepFlowNestingIsRefusedWithoutScanningIt()
    {
        // 1.5 million open brackets: YamlDotNet's scanner would take hours; the lexical guard stops at depth 65.
        var text = "apiVersion: v1\nkind: Pod\nx: " + new string('[', 1_500_000) + new string(']', 1_500_000) + "\n";
        var result = new PodManifestDecoder("node1", PodSourceNames.File).Decode("/m/deep.yaml", text);

        Assert.Equal("/m/deep.yaml:3:68: malformed YAML: exceeded max depth of 64 (nested mappings and sequences)", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void AManifestLargerThanTheRequestLimitIsRefused()
    {
        var text = "apiVersion: v1\nkind: Pod\n#" + new string('x', ManifestLimits.MaxManifestBytes) + "\n";
        var result = new PodManifestDecoder("node1", PodSourceNames.File).Decode("/m/big.yaml", text);

        Assert.Contains("larger than 3145728 bytes", Assert.Single(result.Errors).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ManyDocumentsAreParsedOnceInLinearWork()
    {
        const string Doc = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{0}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n";
        var one = new PodManifestDecoder("node1", PodSourceNames.File).Decode("/m/one.yaml", string.Format(System.Globalization.CultureInfo.InvariantCulture, Doc, 0));
        var text = string.Join("---\n", Enumerable.Range(0, 2000).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, Doc, i)));

        var many = new PodManifestDecoder("node1", PodSourceNames.File).Decode("/m/many.yaml", text);

        Assert.Empty(many.Errors);
        Assert.Equal(2000, many.Pods.Count);
        Assert.Equal(2000, many.Work.Documents);
        // Every character goes through the YAML parser once (the old decoder re-parsed each document with the
        // lines before it as padding: quadratic), and the parser events grow with the document count.
        Assert.Equal(text.Length, many.Work.ParsedCharacters);
        Assert.Equal(one.Work.YamlEvents * 2000, many.Work.YamlEvents);
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
        var source = new FilePodSource(new FilePodSourceOptions { Files = NodeAgent.Runtime.HostFiles.Instance, ManifestPath = dir, NodeName = "node1", CheckFrequency = TimeSpan.FromHours(1) }, logger, TimeProvider.System);
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
