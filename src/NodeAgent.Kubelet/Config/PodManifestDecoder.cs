using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// Decodes a manifest (YAML, possibly several <c>---</c> documents, or JSON) into static pods: each object must be a
/// v1 <c>Pod</c> or <c>PodList</c>; every pod is defaulted (<see cref="PodDefaults"/>), validated
/// (<see cref="PodValidator"/>) and normalised (<see cref="StaticPodNormalizer"/>). An invalid object is rejected with
/// its errors and never prevents the other objects of the manifest from being decoded.
/// </summary>
public sealed class PodManifestDecoder
{
    private readonly StaticPodNormalizer _normalizer;

    /// <summary>Creates a decoder for pods of <paramref name="source"/> (file or http) on <paramref name="nodeName"/>.</summary>
    public PodManifestDecoder(string nodeName, string source)
    {
        _normalizer = new StaticPodNormalizer(nodeName, source);
    }

    /// <summary>The normaliser giving decoded pods their identity.</summary>
    public StaticPodNormalizer Normalizer => _normalizer;

    /// <summary>Decodes <paramref name="content"/> read from <paramref name="origin"/> (a file path or URL).</summary>
    public ManifestDecodeResult Decode(string origin, string content)
    {
        var pods = new List<V1Pod>();
        var errors = new List<ManifestError>();
        var trimmed = content.AsSpan().TrimStart();
        if (trimmed.Length > 0 && trimmed[0] is '{' or '[')
        {
            DecodeJson(origin, content, pods, errors);
        }
        else
        {
            DecodeYaml(origin, content, pods, errors);
        }

        return new ManifestDecodeResult(pods, errors);
    }

    private void DecodeJson(string origin, string content, List<V1Pod> pods, List<ManifestError> errors)
    {
        string? kind;
        string? apiVersion;
        try
        {
            using var doc = JsonDocument.Parse(content);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new ManifestError(origin, 1, 1, null, null, $"expected a JSON object, found {doc.RootElement.ValueKind}"));
                return;
            }

            kind = doc.RootElement.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            apiVersion = doc.RootElement.TryGetProperty("apiVersion", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        }
        catch (JsonException e)
        {
            errors.Add(JsonError(origin, e, "malformed JSON"));
            return;
        }

        var obj = new ObjectRef(origin, 1, null);
        if (!CheckTypeMeta(obj, kind, apiVersion, errors))
        {
            return;
        }

        try
        {
            if (kind == "Pod")
            {
                AddPod(obj, KubernetesJson.Deserialize<V1Pod>(content), pods, errors);
            }
            else
            {
                AddList(obj, KubernetesJson.Deserialize<V1PodList>(content), pods, errors);
            }
        }
        catch (JsonException e)
        {
            errors.Add(JsonError(origin, e, $"cannot decode {kind}"));
        }
    }

    private static ManifestError JsonError(string origin, JsonException e, string what)
    {
        // System.Text.Json counts lines and bytes from 0.
        var line = e.LineNumber is { } l ? (int)l + 1 : (int?)null;
        var column = e.BytePositionInLine is { } b ? (int)b + 1 : (int?)null;
        var reason = e.Path is { Length: > 0 } path && path != "$" ? $"{what} at {path}: {FirstSentence(e.Message)}" : $"{what}: {FirstSentence(e.Message)}";
        return new ManifestError(origin, line, column, null, null, reason);
    }

    private void DecodeYaml(string origin, string content, List<V1Pod> pods, List<ManifestError> errors)
    {
        List<YamlDocumentInfo> documents;
        try
        {
            documents = ScanYaml(content);
        }
        catch (YamlException e)
        {
            errors.Add(new ManifestError(origin, (int)e.Start.Line, (int)e.Start.Column, null, null, "malformed YAML: " + Innermost(e)));
            return;
        }

        if (documents.Count == 0)
        {
            errors.Add(new ManifestError(origin, null, null, null, null, "no objects: the manifest is empty"));
            return;
        }

        var multi = documents.Count > 1;
        foreach (var d in documents)
        {
            var obj = new ObjectRef(origin, d.StartLine, multi ? $"document {d.Number} (line {d.StartLine})" : null);
            if (!CheckTypeMeta(obj, d.Kind, d.ApiVersion, errors))
            {
                continue;
            }

            // Pad with the lines and columns before the document so that deserialiser errors carry the file's positions.
            var text = new string('\n', d.StartLine - 1) + new string(' ', d.StartColumn - 1) + content[d.StartIndex..d.EndIndex];
            try
            {
                var (json, positions) = YamlJson.Convert(text);
                try
                {
                    if (d.Kind == "Pod")
                    {
                        AddPod(obj, KubernetesJson.Deserialize<V1Pod>(Encoding.UTF8.GetString(json)), pods, errors);
                    }
                    else
                    {
                        AddList(obj, KubernetesJson.Deserialize<V1PodList>(Encoding.UTF8.GetString(json)), pods, errors);
                    }
                }
                catch (JsonException e)
                {
                    // Report the YAML position of the value the JSON decoder choked on.
                    var at = e.Path is { } p && positions.TryGetValue(p, out var mark) ? mark : (Mark?)null;
                    var field = e.Path is { Length: > 1 } fp ? fp[2..] : null;
                    errors.Add(new ManifestError(origin, at is { } m1 ? (int)m1.Line : d.StartLine, at is { } m2 ? (int)m2.Column : null, obj.Name, field,
                        $"cannot decode {d.Kind}: {FirstSentence(e.Message)}"));
                }
            }
            catch (YamlException e)
            {
                errors.Add(new ManifestError(origin, (int)e.Start.Line, (int)e.Start.Column, obj.Name, null, $"cannot decode {d.Kind}: {Innermost(e)}"));
            }
        }
    }

    private bool CheckTypeMeta(ObjectRef obj, string? kind, string? apiVersion, List<ManifestError> errors)
    {
        if (string.IsNullOrEmpty(kind))
        {
            errors.Add(obj.Error(null, "kind", "Required value: only Pod and PodList are accepted"));
            return false;
        }

        if (kind is not ("Pod" or "PodList"))
        {
            errors.Add(obj.Error(null, "kind", $"Unsupported value: \"{kind}\": supported values: \"Pod\", \"PodList\""));
            return false;
        }

        if (apiVersion != "v1")
        {
            errors.Add(obj.Error(null, "apiVersion", string.IsNullOrEmpty(apiVersion)
                ? "Required value: supported values: \"v1\""
                : $"Unsupported value: \"{apiVersion}\": supported values: \"v1\""));
            return false;
        }

        return true;
    }

    private void AddList(ObjectRef obj, V1PodList? list, List<V1Pod> pods, List<ManifestError> errors)
    {
        var i = 0;
        foreach (var item in list?.Items ?? [])
        {
            var itemRef = obj with { Name = Join(obj.Name, $"items[{i++}]") };
            if (item.Kind is { Length: > 0 } k && k != "Pod")
            {
                errors.Add(itemRef.Error(null, "kind", $"Unsupported value: \"{k}\": supported values: \"Pod\""));
                continue;
            }

            AddPod(itemRef, item, pods, errors);
        }
    }

    private void AddPod(ObjectRef obj, V1Pod? pod, List<V1Pod> pods, List<ManifestError> errors)
    {
        if (pod is null)
        {
            errors.Add(obj.Error(null, null, "empty object"));
            return;
        }

        PodDefaults.Apply(pod);
        var name = pod.Metadata?.Name;
        var described = string.IsNullOrEmpty(name) ? obj.Name : Join(obj.Name, $"pod \"{name}\"");
        var problems = PodValidator.Validate(pod, _normalizer.NodeName);
        if (problems.Count > 0)
        {
            foreach (var (field, reason) in problems)
            {
                errors.Add(obj.Error(described, field, reason));
            }

            return;
        }

        pod.ApiVersion = "v1";
        pod.Kind = "Pod";
        _normalizer.Normalize(pod, obj.Origin);
        pods.Add(pod);
    }

    private static List<YamlDocumentInfo> ScanYaml(string content)
    {
        var documents = new List<YamlDocumentInfo>();
        var parser = new Parser(new StringReader(content));
        YamlDocumentInfo? current = null;
        var depth = 0;
        string? pendingKey = null;
        var expectKey = true;
        var rootIsEmptyScalar = false;
        var nodes = 0;
        while (parser.MoveNext())
        {
            var ev = parser.Current!;
            switch (ev)
            {
                case DocumentStart ds:
                    current = new YamlDocumentInfo { Number = documents.Count + 1 };
                    current.StartIndex = (int)ds.Start.Index;
                    current.StartLine = (int)ds.Start.Line;
                    current.StartColumn = (int)ds.Start.Column;
                    depth = 0;
                    nodes = 0;
                    rootIsEmptyScalar = false;
                    break;
                case DocumentEnd de when current is not null:
                    current.EndIndex = (int)de.End.Index;
                    // An empty document (a stray '---') has nothing to decode, as with kubectl.
                    if (!(nodes == 1 && rootIsEmptyScalar))
                    {
                        documents.Add(current);
                    }

                    current = null;
                    break;
                case MappingStart:
                    nodes++;
                    depth++;
                    if (depth == 2)
                    {
                        pendingKey = null;
                    }

                    expectKey = true;
                    if (depth == 1 && current is not null)
                    {
                        SetStartFromFirstNode(current, ev);
                    }

                    break;
                case MappingEnd:
                    depth--;
                    expectKey = true;
                    break;
                case SequenceStart:
                    nodes++;
                    depth++;
                    break;
                case SequenceEnd:
                    depth--;
                    expectKey = true;
                    break;
                case Scalar s:
                    nodes++;
                    if (depth == 0 && current is not null)
                    {
                        rootIsEmptyScalar = s.Value.Length == 0 && s.Style == ScalarStyle.Plain;
                    }
                    else if (depth == 1 && current is not null)
                    {
                        if (expectKey)
                        {
                            pendingKey = s.Value;
                        }
                        else if (pendingKey == "kind")
                        {
                            current.Kind = s.Value;
                        }
                        else if (pendingKey == "apiVersion")
                        {
                            current.ApiVersion = s.Value;
                        }

                        expectKey = !expectKey;
                    }

                    break;
            }

            if (depth == 1 && ev is MappingEnd or SequenceEnd)
            {
                // A nested collection was the value of a top-level key.
                expectKey = true;
            }
        }

        return documents;
    }

    private static void SetStartFromFirstNode(YamlDocumentInfo doc, ParsingEvent ev)
    {
        // Implicit documents start at their first node; explicit ones at '---', which is kept (valid YAML).
        if (doc.StartIndex > ev.Start.Index)
        {
            doc.StartIndex = (int)ev.Start.Index;
            doc.StartLine = (int)ev.Start.Line;
            doc.StartColumn = (int)ev.Start.Column;
        }
    }

    private static string Innermost(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        var message = inner.Message;
        // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (…): "; the position is reported separately.
        var marker = message.IndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith("(Line:", StringComparison.Ordinal) && marker > 0)
        {
            message = message[(marker + 3)..];
        }

        return message;
    }

    private static string FirstSentence(string message)
    {
        foreach (var marker in new[] { " Path:", " LineNumber:" })
        {
            var i = message.IndexOf(marker, StringComparison.Ordinal);
            if (i > 0)
            {
                message = message[..i];
            }
        }

        return message;
    }

    private sealed class YamlDocumentInfo
    {
        public int Number { get; init; }

        public int StartIndex { get; set; }

        public int StartLine { get; set; }

        public int StartColumn { get; set; }

        public int EndIndex { get; set; }

        public string? Kind { get; set; }

        public string? ApiVersion { get; set; }
    }

    private static string Join(string? prefix, string part) => prefix is null ? part : $"{prefix}, {part}";

    private sealed record ObjectRef(string Origin, int Line, string? Name)
    {
        public ManifestError Error(string? described, string? field, string reason) =>
            new(Origin, null, null, described ?? Name, field, reason);
    }
}
