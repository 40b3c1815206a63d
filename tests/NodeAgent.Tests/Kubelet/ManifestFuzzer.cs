using System.Text;

namespace NodeAgent.Tests.Kubelet;

/// <summary>
/// A seeded generator of hostile manifests: valid pods (YAML, multi-document, PodList, JSON) mutated in structure
/// (lines dropped, duplicated, re-indented, truncated, unclosed collections), types (scalars replaced by lists, maps,
/// numbers, nulls), values (negative and huge numbers, bad quantities, names with newlines, NUL bytes, paths with
/// '..', long strings), encodings (BOM, UTF-16, invalid UTF-8, CRLF), sizes (over the 3 MiB limit, many documents),
/// null list items, deep nesting and alias bombs. The same seed always gives the same cases, so a failing case is
/// reproduced from the seed and index printed with it. Reusable by the agent-level fuzz test.
/// </summary>
public sealed class ManifestFuzzer
{
    private static readonly string[] Bases =
    [
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: fuzz-a\n  labels:\n    app: web\nspec:\n  containers:\n  - name: web\n    image: nginx:1.27\n    ports:\n    - containerPort: 80\n      hostPort: 8080\n      hostIP: 127.0.0.1\n      protocol: TCP\n    env:\n    - name: MODE\n      value: fuzz\n    resources:\n      limits:\n        cpu: 500m\n        memory: 64Mi\n      requests:\n        cpu: 100m\n    volumeMounts:\n    - name: data\n      mountPath: /data\n  volumes:\n  - name: data\n    emptyDir: {}\n  terminationGracePeriodSeconds: 5\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: fuzz-b\n  uid: 0a1b2c3d-fuzz\nspec:\n  initContainers:\n  - name: init\n    image: busybox:1.36\n    command: [sh, -c, \"true\"]\n  containers:\n  - name: app\n    image: busybox:1.36\n    workingDir: /tmp\n    securityContext:\n      runAsUser: 1000\n  securityContext:\n    fsGroup: 2000\n    supplementalGroups: [3000]\n  dnsConfig:\n    nameservers: [10.0.0.10]\n    options:\n    - name: ndots\n      value: \"2\"\n  hostAliases:\n  - ip: 10.1.2.3\n    hostnames: [db.local]\n  tolerations:\n  - operator: Exists\n",
        "apiVersion: v1\nkind: PodList\nitems:\n- metadata:\n    name: fuzz-c\n  spec:\n    containers:\n    - name: c\n      image: busybox:1.36\n- metadata:\n    name: fuzz-d\n  spec:\n    containers:\n    - name: d\n      image: busybox:1.36\n      resources:\n        requests:\n          memory: 1Gi\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: fuzz-e\nspec:\n  containers:\n  - name: e\n    image: busybox:1.36\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: fuzz-f\nspec:\n  activeDeadlineSeconds: 60\n  containers:\n  - name: f\n    image: busybox:1.36\n    volumeMounts:\n    - name: host\n      mountPath: /host\n  volumes:\n  - name: host\n    hostPath:\n      path: /tmp\n      type: Directory\n",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"fuzz-g\"},\"spec\":{\"containers\":[{\"name\":\"g\",\"image\":\"busybox:1.36\",\"resources\":{\"limits\":{\"memory\":\"32Mi\"}}}]}}\n",
    ];

    private static readonly string[] HostileValues =
    [
        "", "~", "null", "-1", "0", "65536", "9223372036854775807", "-9223372036854775808", "1e400", "1.5.5Gi", "1Ki1",
        "1gi", "Infinity", ".nan", "0x10", "\"0x10\"", "\"foo\\n\"", "\"a\\0b\"", "../../victim", "/", "\"\"", "[]", "{}",
        "[null]", "{a: b}", "yesterday", "\"10.9.9.9\\n-A OUTPUT -j ACCEPT\"", "*nowhere", "&x y", "!!binary aGk=",
        "\"\\u2028\"", "\"\\t\"", "true", "3.14", "-.inf", "\"ünïcødé\"", "'single ''quoted'''",
    ];

    private readonly Random _random;
    private readonly string? _image;

    /// <param name="seed">The seed: the same seed gives the same cases.</param>
    /// <param name="image">When set, every base manifest names this image (the agent-level test points it at a
    /// registry that answers at once, so accepted cases never wait on the network); the mutations are unchanged.</param>
    public ManifestFuzzer(int seed, string? image = null)
    {
        Seed = seed;
        _random = new Random(seed);
        _image = image;
    }

    public int Seed { get; }

    /// <summary>The next case: its bytes and a description of the mutations applied.</summary>
    public (byte[] Content, string Mutation) Next()
    {
        var text = Bases[_random.Next(Bases.Length)];
        if (_image is not null)
        {
            text = text.Replace("nginx:1.27", _image, StringComparison.Ordinal).Replace("busybox:1.36", _image, StringComparison.Ordinal);
        }

        var mutations = new List<string>();
        var rounds = 1 + _random.Next(3);
        byte[]? bytes = null;
        for (var r = 0; r < rounds && bytes is null; r++)
        {
            var kind = _random.Next(14);
            switch (kind)
            {
                case 0 or 1 or 2:
                    text = ReplaceValue(text, HostileValues[_random.Next(HostileValues.Length)], mutations);
                    break;
                case 3 when text.Length < 1024 * 1024:
                    text = ReplaceValue(text, new string('x', 1 + _random.Next(200_000)), mutations);
                    break;
                case 4:
                    text = EditLines(text, mutations);
                    break;
                case 5:
                    var cut = _random.Next(text.Length);
                    mutations.Add($"truncated at {cut}");
                    text = text[..cut];
                    break;
                case 6:
                    text = NullItem(text, mutations);
                    break;
                case 7:
                    var depth = _random.Next(2) == 0 ? 70 : 20_000;
                    mutations.Add($"nesting {depth}");
                    text += $"x-deep: {new string('[', depth)}{new string(']', depth)}\n";
                    break;
                case 8:
                    mutations.Add("alias bomb");
                    text += "l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + string.Concat(Enumerable.Range(1, 8).Select(i =>
                        $"l{i}: &l{i} [{string.Join(',', Enumerable.Repeat($"*l{i - 1}", 9))}]\n"));
                    break;
                case 9 when text.Length < 1024 * 1024:
                    mutations.Add("over the size limit");
                    text += "# " + new string('#', (3 * 1024 * 1024) + 10) + "\n";
                    break;
                case 10 when text.Length < 64 * 1024:
                    var copies = Math.Min(2 + _random.Next(300), (4 * 1024 * 1024 / Math.Max(1, text.Length)) + 1);
                    mutations.Add($"{copies} documents");
                    text = string.Join("---\n", Enumerable.Repeat(text, copies));
                    break;
                case 11:
                    (text, bytes) = Encode(text, mutations);
                    break;
                case 12:
                    mutations.Add("unclosed flow collection");
                    var at = text.IndexOf("\n  ", StringComparison.Ordinal);
                    text = at < 0 ? text + "{a: [" : text.Insert(at + 1, "x-open: {a: [b, ");
                    break;
                case 9 or 10 or 3:
                    mutations.Add("type swap");
                    text = ReplaceValue(text, "[]", mutations);
                    break;
                default:
                    mutations.Add("type swap");
                    text = ReplaceValue(text, _random.Next(2) == 0 ? "[1, 2]" : "{k: v}", mutations);
                    break;
            }
        }

        return (bytes ?? Encoding.UTF8.GetBytes(text), string.Join("; ", mutations));
    }

    private string ReplaceValue(string text, string value, List<string> mutations)
    {
        var lines = text.Split('\n');
        var candidates = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains(": ", StringComparison.Ordinal)).ToList();
        if (candidates.Count == 0)
        {
            return text;
        }

        var i = candidates[_random.Next(candidates.Count)];
        var colon = lines[i].IndexOf(": ", StringComparison.Ordinal);
        mutations.Add($"line {i + 1} {lines[i].Trim()[..Math.Min(30, lines[i].Trim().Length)]} := {value[..Math.Min(40, value.Length)]}");
        lines[i] = lines[i][..(colon + 2)] + value;
        return string.Join('\n', lines);
    }

    private string EditLines(string text, List<string> mutations)
    {
        var lines = text.Split('\n').ToList();
        var i = _random.Next(lines.Count);
        switch (_random.Next(3))
        {
            case 0:
                mutations.Add($"dropped line {i + 1}");
                lines.RemoveAt(i);
                break;
            case 1:
                mutations.Add($"duplicated line {i + 1}");
                lines.Insert(i, lines[i]);
                break;
            default:
                mutations.Add($"re-indented line {i + 1}");
                lines[i] = new string(' ', _random.Next(7)) + lines[i].TrimStart();
                break;
        }

        return string.Join('\n', lines);
    }

    private string NullItem(string text, List<string> mutations)
    {
        var lines = text.Split('\n');
        var items = Enumerable.Range(0, lines.Length).Where(i => lines[i].TrimStart().StartsWith("- ", StringComparison.Ordinal)).ToList();
        if (items.Count == 0)
        {
            return text;
        }

        var i = items[_random.Next(items.Count)];
        var dash = lines[i].IndexOf("- ", StringComparison.Ordinal);
        mutations.Add($"null item at line {i + 1}");
        return string.Join('\n', lines.Take(i).Append(lines[i][..(dash + 2)] + "null").Append(new string(' ', dash) + "- " + lines[i][(dash + 2)..]).Concat(lines.Skip(i + 1)));
    }

    private (string Text, byte[]? Bytes) Encode(string text, List<string> mutations)
    {
        switch (_random.Next(4))
        {
            case 0:
                mutations.Add("BOM");
                return (text, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)]);
            case 1:
                mutations.Add("UTF-16");
                return (text, Encoding.Unicode.GetBytes(text));
            case 2:
                mutations.Add("invalid UTF-8");
                var bytes = Encoding.UTF8.GetBytes(text).ToList();
                bytes.Insert(_random.Next(bytes.Count), 0xC3);
                bytes.Insert(_random.Next(bytes.Count), 0xFF);
                return (text, bytes.ToArray());
            default:
                mutations.Add("CRLF");
                return (text.Replace("\n", "\r\n", StringComparison.Ordinal), null);
        }
    }
}
