using System.Text.Json;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// Decodes a manifest (YAML, possibly several <c>---</c> documents, or JSON; a UTF-8 byte-order mark is skipped)
/// into static pods: each object must be a v1 <c>Pod</c> or <c>PodList</c>. Every pod is checked on its JSON
/// (<see cref="ManifestJsonChecks"/>), decoded, defaulted (<see cref="PodDefaults"/>), validated
/// (<see cref="PodValidator"/>) and normalised (<see cref="StaticPodNormalizer"/>). An invalid object — or any
/// exception while handling it — is rejected with its errors and never prevents the other objects of the manifest
/// from being decoded; <see cref="Decode"/> never throws for any content. The text is parsed once, in one pass.
/// </summary>
public sealed class PodManifestDecoder
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = YamlJson.MaxDepth };
    private static readonly IReadOnlyDictionary<string, Mark> NoPositions = new Dictionary<string, Mark>();
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
        if (content.Length > 0 && content[0] == '\uFEFF')
        {
            content = content[1..];
        }

        if (content.Length > ManifestLimits.MaxManifestBytes)
        {
            errors.Add(new ManifestError(origin, null, null, null, null,
                $"the manifest is larger than {ManifestLimits.MaxManifestBytes} bytes (the API server's request size limit)"));
            return new ManifestDecodeResult(pods, errors);
        }

        var trimmed = content.AsSpan().TrimStart();
        ManifestDecodeWork work;
        try
        {
            work = trimmed.Length > 0 && trimmed[0] is '{' or '['
                ? DecodeJson(origin, content, pods, errors)
                : DecodeYaml(origin, content, pods, errors);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Last resort: every known failure is reported with its place above; nothing may escape to the source loop.
            errors.Add(new ManifestError(origin, null, null, null, null, $"cannot decode the manifest: {e.GetType().Name}: {e.Message}"));
            work = ManifestDecodeWork.None;
        }

        return new ManifestDecodeResult(pods, errors) { Work = work };
    }

    private ManifestDecodeWork DecodeJson(string origin, string content, List<V1Pod> pods, List<ManifestError> errors)
    {
        var work = new ManifestDecodeWork(1, content.Length, 0);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(content, JsonOptions);
        }
        catch (JsonException e)
        {
            errors.Add(JsonError(origin, e, "malformed JSON"));
            return work;
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new ManifestError(origin, 1, 1, null, null, $"expected a JSON object, found {doc.RootElement.ValueKind}"));
                return work;
            }

            DecodeObject(new ObjectRef(origin, null, NoPositions), doc.RootElement, content, errors, pods);
        }

        return work;
    }

    private static ManifestError JsonError(string origin, JsonException e, string what)
    {
        // System.Text.Json counts lines and bytes from 0.
        var line = e.LineNumber is { } l ? (int)l + 1 : (int?)null;
        var column = e.BytePositionInLine is { } b ? (int)b + 1 : (int?)null;
        var reason = e.Path is { Length: > 0 } path && path != "$" ? $"{what} at {path}: {FirstSentence(e.Message)}" : $"{what}: {FirstSentence(e.Message)}";
        return new ManifestError(origin, line, column, null, null, reason);
    }

    private ManifestDecodeWork DecodeYaml(string origin, string content, List<V1Pod> pods, List<ManifestError> errors)
    {
        var documents = new List<(int Line, YamlJsonDocument Document)>();
        var parser = new Parser(new StringReader(content));
        var count = 0;
        long events = 0;
        var line = 1;
        try
        {
            YamlFlowDepthGuard.Check(content);
            parser.Consume<StreamStart>();
            while (parser.Accept<DocumentStart>(out var start))
            {
                parser.MoveNext();
                count++;
                line = (int)start.Start.Line;
                var document = YamlJson.ConvertDocument(parser);
                events += document.ParserEvents;
                if (start.IsImplicit)
                {
                    line = (int)document.RootStart.Line;
                }

                if (!document.IsEmpty)
                {
                    documents.Add((line, document));
                }

                parser.Consume<DocumentEnd>();
            }

            parser.Consume<StreamEnd>();
        }
        catch (YamlException e)
        {
            // A syntax error, or well-formed YAML that is refused (duplicate key, depth, alias expansion): the whole
            // file is rejected, and the rest of it is not even scanned (YamlDotNet's scanner is quadratic in the
            // nesting depth of flow collections).
            var name = count > 1 ? $"document {count} (line {line})" : null;
            errors.Add(new ManifestError(origin, (int)e.Start.Line, (int)e.Start.Column, name, null, "malformed YAML: " + Innermost(e)));
            return new ManifestDecodeWork(count, content.Length, events);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet throws this for some malformed input (an unclosed flow mapping at the end of the text).
            var at = parser.Current?.End;
            errors.Add(new ManifestError(origin, at is { } m1 ? (int)m1.Line : null, at is { } m2 ? (int)m2.Column : null, null, null,
                $"malformed YAML: unexpected end of the text or of a flow collection ({e.Message})"));
            return new ManifestDecodeWork(count, content.Length, events);
        }

        var work = new ManifestDecodeWork(count, content.Length, events);
        if (documents.Count == 0)
        {
            errors.Add(new ManifestError(origin, null, null, null, null, "no objects: the manifest is empty"));
            return work;
        }

        var multi = documents.Count > 1;
        for (var i = 0; i < documents.Count; i++)
        {
            var (documentLine, document) = documents[i];
            var obj = new ObjectRef(origin, multi ? $"document {i + 1} (line {documentLine})" : null, document.Positions);
            // JsonElement.ParseValue keeps its document in plain arrays: JsonDocument.Parse rents them from the shared
            // pool, which would keep buffers the size of the largest manifest long after its pods are gone.
            var reader = new Utf8JsonReader(document.Json, new JsonReaderOptions { MaxDepth = YamlJson.MaxDepth });
            DecodeObject(obj, JsonElement.ParseValue(ref reader), null, errors, pods);
        }

        return work;
    }

    /// <param name="text">The object's own JSON text when it is the whole (JSON) manifest, for exact line numbers.</param>
    private void DecodeObject(ObjectRef obj, JsonElement root, string? text, List<ManifestError> errors, List<V1Pod> pods)
    {
        var kind = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
        var apiVersion = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("apiVersion", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        if (!CheckTypeMeta(obj, kind, apiVersion, errors))
        {
            return;
        }

        if (kind == "Pod")
        {
            DecodePod(obj, root, "$", text, errors, pods);
            return;
        }

        if (!root.TryGetProperty("items", out var items) || items.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (items.ValueKind != JsonValueKind.Array)
        {
            errors.Add(obj.Error(null, "items", $"Invalid value: {items.ValueKind.ToString().ToLowerInvariant()}: must be a list of pods"));
            return;
        }

        var i = 0;
        foreach (var item in items.EnumerateArray())
        {
            var itemRef = obj with { Name = Join(obj.Name, $"items[{i}]") };
            var path = $"$.items[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add(itemRef.At(path, item.ValueKind == JsonValueKind.Null ? "Required value: list items must not be null" : $"Invalid value: {item.ValueKind.ToString().ToLowerInvariant()}: must be a pod"));
                continue;
            }

            if (item.TryGetProperty("kind", out var itemKind) && itemKind.ValueKind == JsonValueKind.String && itemKind.GetString() is { Length: > 0 } ik && ik != "Pod")
            {
                errors.Add(itemRef.Error(null, "kind", $"Unsupported value: {ValueText.Quote(ik)}: supported values: \"Pod\""));
                continue;
            }

            DecodePod(itemRef, item, path, null, errors, pods);
        }
    }

    private void DecodePod(ObjectRef obj, JsonElement json, string jsonPath, string? text, List<ManifestError> errors, List<V1Pod> pods)
    {
        var described = Describe(obj, json.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object
            && m.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null);
        var problems = ManifestJsonChecks.Check(json, jsonPath);
        if (problems.Count > 0)
        {
            foreach (var p in problems)
            {
                errors.Add(obj.At(p.JsonPath, p.Reason, described, p.Field));
            }

            return;
        }

        V1Pod? pod;
        try
        {
            // From the document's own UTF-8 bytes; a whole-JSON manifest from its text, for exact line numbers.
            pod = text is null ? json.Deserialize(UnpooledJson.Info<V1Pod>()) : KubernetesJson.Deserialize<V1Pod>(text);
        }
        catch (JsonException e)
        {
            // Report the YAML position of the value the JSON decoder choked on.
            var relative = e.Path ?? "$";
            var absolute = jsonPath + relative[1..];
            var field = relative.Length > 1 ? relative[2..] : null;
            var error = obj.At(absolute, $"cannot decode Pod: {FirstSentence(e.Message)}", null, field);
            if (error.Line is null && text is not null && e.LineNumber is { } l)
            {
                error = error with { Line = (int)l + 1, Column = e.BytePositionInLine is { } b ? (int)b + 1 : null, Object = null, Field = null,
                    Reason = $"cannot decode Pod at {relative}: {FirstSentence(e.Message)}" };
            }

            errors.Add(error);
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.Add(obj.At(jsonPath, $"cannot decode Pod: {e.Message}", described, null));
            return;
        }

        if (pod is null)
        {
            errors.Add(obj.Error(null, null, "empty object"));
            return;
        }

        try
        {
            AddPod(obj, jsonPath, pod, pods, errors);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.Add(obj.At(jsonPath, $"cannot process pod: {e.GetType().Name}: {e.Message}", described, null));
        }
    }

    private void AddPod(ObjectRef obj, string jsonPath, V1Pod pod, List<V1Pod> pods, List<ManifestError> errors)
    {
        PodDefaults.Apply(pod);
        var described = Describe(obj, pod.Metadata?.Name);
        var problems = PodValidator.Validate(pod, _normalizer.NodeName);
        if (problems.Count > 0)
        {
            foreach (var (field, reason) in problems)
            {
                errors.Add(obj.At(FieldPaths.ToJsonPath(jsonPath, field), reason, described, field));
            }

            return;
        }

        pod.ApiVersion = "v1";
        pod.Kind = "Pod";
        _normalizer.Normalize(pod, obj.Origin);
        pods.Add(pod);
    }

    private static string? Describe(ObjectRef obj, string? name) =>
        string.IsNullOrEmpty(name) ? obj.Name : Join(obj.Name, $"pod {ValueText.Quote(name)}");

    private static bool CheckTypeMeta(ObjectRef obj, string? kind, string? apiVersion, List<ManifestError> errors)
    {
        if (string.IsNullOrEmpty(kind))
        {
            errors.Add(obj.Error(null, "kind", "Required value: only Pod and PodList are accepted"));
            return false;
        }

        if (kind is not ("Pod" or "PodList"))
        {
            errors.Add(obj.Error(null, "kind", $"Unsupported value: {ValueText.Quote(kind)}: supported values: \"Pod\", \"PodList\""));
            return false;
        }

        if (apiVersion != "v1")
        {
            errors.Add(obj.Error(null, "apiVersion", string.IsNullOrEmpty(apiVersion)
                ? "Required value: supported values: \"v1\""
                : $"Unsupported value: {ValueText.Quote(apiVersion)}: supported values: \"v1\""));
            return false;
        }

        return true;
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

    private static string Join(string? prefix, string part) => prefix is null ? part : $"{prefix}, {part}";

    private sealed record ObjectRef(string Origin, string? Name, IReadOnlyDictionary<string, Mark> Positions)
    {
        public ManifestError Error(string? described, string? field, string reason) =>
            new(Origin, null, null, described ?? Name, field, reason);

        /// <summary>An error placed at the YAML position of <paramref name="jsonPath"/> when it is known.</summary>
        public ManifestError At(string jsonPath, string reason, string? described = null, string? field = null) =>
            Positions.TryGetValue(jsonPath, out var mark)
                ? new(Origin, (int)mark.Line, (int)mark.Column, described ?? Name, field, reason)
                : new(Origin, null, null, described ?? Name, field, reason);
    }
}
