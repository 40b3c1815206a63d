using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// Reads the Kubernetes protobuf encoding (<c>application/vnd.kubernetes.protobuf</c>: the "k8s\0" prefix, a
/// runtime.Unknown envelope, the object message) into JSON, for the types kubectl's typed commands create
/// (<c>kubectl create configmap|secret|namespace|serviceaccount|service</c>, <c>kubectl create token</c>,
/// <c>kubectl certificate approve|deny</c>, <c>kubectl auth can-i|whoami</c>). Field numbers are those of k8s.io/api
/// core/v1, authentication/v1, authorization/v1 and certificates/v1 generated.proto and apimachinery's meta/v1; a
/// field this table does not know is refused rather than dropped. Responses stay JSON.
/// </summary>
public static class ProtobufDecoder
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private enum K { String, Bytes, Int, Bool, Message, Time, MapString, MapBytes, MapStrings, Strings, Messages, IntOrString }

    private sealed record F(string Json, K Kind, string? Message = null);

    private static readonly Dictionary<string, Dictionary<int, F>> Schemas = new()
    {
        ["ObjectMeta"] = new()
        {
            [1] = new("name", K.String), [2] = new("generateName", K.String), [3] = new("namespace", K.String),
            [4] = new("selfLink", K.String), [5] = new("uid", K.String), [6] = new("resourceVersion", K.String),
            [7] = new("generation", K.Int), [8] = new("creationTimestamp", K.Time), [9] = new("deletionTimestamp", K.Time),
            [10] = new("deletionGracePeriodSeconds", K.Int), [11] = new("labels", K.MapString), [12] = new("annotations", K.MapString),
            [13] = new("ownerReferences", K.Messages, "OwnerReference"), [14] = new("finalizers", K.Strings),
        },
        ["OwnerReference"] = new()
        {
            [1] = new("kind", K.String), [3] = new("name", K.String), [4] = new("uid", K.String), [5] = new("apiVersion", K.String),
            [6] = new("controller", K.Bool), [7] = new("blockOwnerDeletion", K.Bool),
        },
        ["ConfigMap"] = new()
        {
            [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("data", K.MapString), [3] = new("binaryData", K.MapBytes), [4] = new("immutable", K.Bool),
        },
        ["Secret"] = new()
        {
            [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("data", K.MapBytes), [3] = new("type", K.String),
            [4] = new("stringData", K.MapString), [5] = new("immutable", K.Bool),
        },
        ["Namespace"] = new() { [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("spec", K.Message, "NamespaceSpec"), [3] = new("status", K.Message, "NamespaceStatus") },
        ["NamespaceSpec"] = new() { [1] = new("finalizers", K.Strings) },
        ["NamespaceStatus"] = new() { [1] = new("phase", K.String) },
        ["ServiceAccount"] = new()
        {
            [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("secrets", K.Messages, "ObjectReference"),
            [3] = new("imagePullSecrets", K.Messages, "LocalObjectReference"), [4] = new("automountServiceAccountToken", K.Bool),
        },
        ["ObjectReference"] = new()
        {
            [1] = new("kind", K.String), [2] = new("namespace", K.String), [3] = new("name", K.String), [4] = new("uid", K.String),
            [5] = new("apiVersion", K.String), [6] = new("resourceVersion", K.String), [7] = new("fieldPath", K.String),
        },
        ["LocalObjectReference"] = new() { [1] = new("name", K.String) },
        ["Service"] = new() { [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("spec", K.Message, "ServiceSpec"), [3] = new("status", K.Message, "ServiceStatus") },
        ["ServiceSpec"] = new()
        {
            [1] = new("ports", K.Messages, "ServicePort"), [2] = new("selector", K.MapString), [3] = new("clusterIP", K.String),
            [4] = new("type", K.String), [5] = new("externalIPs", K.Strings), [7] = new("sessionAffinity", K.String),
            [8] = new("loadBalancerIP", K.String), [9] = new("loadBalancerSourceRanges", K.Strings), [10] = new("externalName", K.String),
            [11] = new("externalTrafficPolicy", K.String), [12] = new("healthCheckNodePort", K.Int), [13] = new("publishNotReadyAddresses", K.Bool),
            [17] = new("ipFamilyPolicy", K.String), [18] = new("clusterIPs", K.Strings), [19] = new("ipFamilies", K.Strings),
            [20] = new("allocateLoadBalancerNodePorts", K.Bool), [21] = new("loadBalancerClass", K.String),
            [22] = new("internalTrafficPolicy", K.String), [23] = new("trafficDistribution", K.String),
        },
        ["ServicePort"] = new()
        {
            [1] = new("name", K.String), [2] = new("protocol", K.String), [3] = new("port", K.Int), [4] = new("targetPort", K.IntOrString),
            [5] = new("nodePort", K.Int), [6] = new("appProtocol", K.String),
        },
        ["ServiceStatus"] = new() { [1] = new("loadBalancer", K.Message, "LoadBalancerStatus") },
        ["LoadBalancerStatus"] = new() { [1] = new("ingress", K.Messages, "LoadBalancerIngress") },
        ["LoadBalancerIngress"] = new() { [1] = new("ip", K.String), [2] = new("hostname", K.String) },

        // authentication.k8s.io/v1
        ["TokenRequest"] = new() { [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("spec", K.Message, "TokenRequestSpec"), [3] = new("status", K.Message, "TokenRequestStatus") },
        ["TokenRequestSpec"] = new()
        {
            [1] = new("audiences", K.Strings), [3] = new("boundObjectRef", K.Message, "BoundObjectReference"), [4] = new("expirationSeconds", K.Int),
        },
        ["BoundObjectReference"] = new() { [1] = new("kind", K.String), [2] = new("apiVersion", K.String), [3] = new("name", K.String), [4] = new("uid", K.String) },
        ["TokenRequestStatus"] = new() { [1] = new("token", K.String), [2] = new("expirationTimestamp", K.Time) },
        ["SelfSubjectReview"] = new() { [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("status", K.Message, "SelfSubjectReviewStatus") },
        ["SelfSubjectReviewStatus"] = new() { [1] = new("userInfo", K.Message, "UserInfo") },
        ["UserInfo"] = new() { [1] = new("username", K.String), [2] = new("uid", K.String), [3] = new("groups", K.Strings), [4] = new("extra", K.MapStrings) },

        // authorization.k8s.io/v1
        ["SubjectAccessReview"] = Review("SubjectAccessReviewSpec"),
        ["LocalSubjectAccessReview"] = Review("SubjectAccessReviewSpec"),
        ["SelfSubjectAccessReview"] = Review("SelfSubjectAccessReviewSpec"),
        ["SubjectAccessReviewSpec"] = new()
        {
            [1] = new("resourceAttributes", K.Message, "ResourceAttributes"), [2] = new("nonResourceAttributes", K.Message, "NonResourceAttributes"),
            [3] = new("user", K.String), [4] = new("groups", K.Strings), [5] = new("extra", K.MapStrings), [6] = new("uid", K.String),
        },
        ["SelfSubjectAccessReviewSpec"] = new()
        {
            [1] = new("resourceAttributes", K.Message, "ResourceAttributes"), [2] = new("nonResourceAttributes", K.Message, "NonResourceAttributes"),
        },
        ["ResourceAttributes"] = new()
        {
            [1] = new("namespace", K.String), [2] = new("verb", K.String), [3] = new("group", K.String), [4] = new("version", K.String),
            [5] = new("resource", K.String), [6] = new("subresource", K.String), [7] = new("name", K.String),
            [8] = new("fieldSelector", K.Message, "SelectorAttributes"), [9] = new("labelSelector", K.Message, "SelectorAttributes"),
        },
        ["SelectorAttributes"] = new() { [1] = new("rawSelector", K.String), [2] = new("requirements", K.Messages, "SelectorRequirement") },
        ["SelectorRequirement"] = new() { [1] = new("key", K.String), [2] = new("operator", K.String), [3] = new("values", K.Strings) },
        ["NonResourceAttributes"] = new() { [1] = new("path", K.String), [2] = new("verb", K.String) },
        ["SubjectAccessReviewStatus"] = new()
        {
            [1] = new("allowed", K.Bool), [2] = new("reason", K.String), [3] = new("evaluationError", K.String), [4] = new("denied", K.Bool),
        },

        // certificates.k8s.io/v1
        ["CertificateSigningRequest"] = new()
        {
            [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("spec", K.Message, "CertificateSigningRequestSpec"), [3] = new("status", K.Message, "CertificateSigningRequestStatus"),
        },
        ["CertificateSigningRequestSpec"] = new()
        {
            [1] = new("request", K.Bytes), [2] = new("username", K.String), [3] = new("uid", K.String), [4] = new("groups", K.Strings),
            [5] = new("usages", K.Strings), [6] = new("extra", K.MapStrings), [7] = new("signerName", K.String), [8] = new("expirationSeconds", K.Int),
        },
        ["CertificateSigningRequestStatus"] = new() { [1] = new("conditions", K.Messages, "CertificateSigningRequestCondition"), [2] = new("certificate", K.Bytes) },
        ["CertificateSigningRequestCondition"] = new()
        {
            [1] = new("type", K.String), [2] = new("reason", K.String), [3] = new("message", K.String), [4] = new("lastUpdateTime", K.Time),
            [5] = new("lastTransitionTime", K.Time), [6] = new("status", K.String),
        },
    };

    private static Dictionary<int, F> Review(string spec) => new()
    {
        [1] = new("metadata", K.Message, "ObjectMeta"), [2] = new("spec", K.Message, spec), [3] = new("status", K.Message, "SubjectAccessReviewStatus"),
    };

    /// <summary>The ExtraValue message (a list of strings) a map of extra user attributes holds.</summary>
    private static readonly Dictionary<int, F> ExtraValue = new() { [1] = new("items", K.Strings) };

    private static readonly Dictionary<int, F> TypeMeta = new() { [1] = new("apiVersion", K.String), [2] = new("kind", K.String) };

    public static bool IsProtobuf(string? contentType) => contentType?.Split(';')[0].Trim() == MediaType;

    public static JsonObject Decode(ReadOnlySpan<byte> body)
    {
        if (body.Length < 4 || !body[..4].SequenceEqual("k8s\0"u8))
        {
            throw ApiError.BadRequest("the protobuf body does not start with the \"k8s\\x00\" prefix");
        }
        var reader = new Reader(body[4..].ToArray());
        JsonObject? typeMeta = null;
        byte[]? raw = null;
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            switch (field)
            {
                case 1 when wire == 2: typeMeta = Message(reader.Bytes(), TypeMeta, "TypeMeta"); break;
                case 2 when wire == 2: raw = reader.Bytes(); break;
                case 3 or 4 when wire == 2: reader.Bytes(); break;
                default: throw ApiError.BadRequest($"protobuf: unexpected field {field} in runtime.Unknown");
            }
        }
        var kind = typeMeta?["kind"]?.ToString() ?? throw ApiError.BadRequest("protobuf: no kind in the envelope");
        if (!Schemas.TryGetValue(kind, out var schema) || raw is null)
        {
            throw new ApiError(415, "UnsupportedMediaType", $"the test server reads protobuf only for ConfigMap, Secret, Namespace, ServiceAccount, Service, TokenRequest, CertificateSigningRequest and the access reviews, not {kind}; send JSON");
        }
        var obj = Message(raw, schema, kind);
        obj["apiVersion"] = typeMeta!["apiVersion"]?.DeepClone();
        obj["kind"] = kind;
        return obj;
    }

    private static JsonObject Message(byte[] data, Dictionary<int, F> schema, string name)
    {
        var reader = new Reader(data);
        var obj = new JsonObject();
        while (!reader.End)
        {
            var (number, wire) = reader.Tag();
            if (!schema.TryGetValue(number, out var f))
            {
                throw ApiError.BadRequest($"protobuf: field {number} of {name} is not understood by the test server; send JSON");
            }
            var expected = f.Kind is K.Int or K.Bool ? 0 : 2;
            if (wire != expected)
            {
                throw ApiError.BadRequest($"protobuf: field {number} ({f.Json}) of {name} has wire type {wire}, expected {expected}");
            }
            switch (f.Kind)
            {
                // Go writes every scalar; its JSON omits the empty ones (omitempty), so they are left out here too.
                case K.String: SetUnlessEmpty(obj, f.Json, System.Text.Encoding.UTF8.GetString(reader.Bytes())); break;
                case K.Bytes: SetUnlessEmpty(obj, f.Json, Convert.ToBase64String(reader.Bytes())); break;
                case K.Int: SetUnlessEmpty(obj, f.Json, reader.Varint()); break;
                case K.Bool: SetUnlessEmpty(obj, f.Json, reader.Varint() != 0); break;
                case K.Message: obj[f.Json] = Message(reader.Bytes(), Schemas[f.Message!], f.Message!); break;
                case K.Messages: Array(obj, f.Json).Add((JsonNode)Message(reader.Bytes(), Schemas[f.Message!], f.Message!)); break;
                case K.Strings: Array(obj, f.Json).Add((JsonNode?)JsonValue.Create(System.Text.Encoding.UTF8.GetString(reader.Bytes()))); break;
                case K.Time:
                    // Go writes a zero time as an empty message; its JSON is null (left out).
                    if (Time(reader.Bytes()) is { } time) obj[f.Json] = time; else obj.Remove(f.Json);
                    break;
                case K.MapString:
                case K.MapBytes:
                {
                    var (key, value) = Entry(reader.Bytes());
                    var map = obj[f.Json] as JsonObject ?? new JsonObject();
                    obj[f.Json] = map;
                    map[key] = f.Kind == K.MapString ? System.Text.Encoding.UTF8.GetString(value) : Convert.ToBase64String(value);
                    break;
                }
                case K.MapStrings:
                {
                    var (key, value) = Entry(reader.Bytes());
                    var map = obj[f.Json] as JsonObject ?? new JsonObject();
                    obj[f.Json] = map;
                    map[key] = Message(value, ExtraValue, "ExtraValue")["items"]?.DeepClone() ?? new JsonArray();
                    break;
                }
                case K.IntOrString: obj[f.Json] = IntOrString(reader.Bytes()); break;
            }
        }
        return obj;
    }

    private static void SetUnlessEmpty(JsonObject obj, string key, string value)
    {
        if (value.Length > 0) obj[key] = value; else obj.Remove(key);
    }

    private static void SetUnlessEmpty(JsonObject obj, string key, long value)
    {
        if (value != 0) obj[key] = value; else obj.Remove(key);
    }

    private static void SetUnlessEmpty(JsonObject obj, string key, bool value)
    {
        if (value) obj[key] = value; else obj.Remove(key);
    }

    private static JsonArray Array(JsonObject obj, string key)
    {
        if (obj[key] is not JsonArray a)
        {
            a = new JsonArray();
            obj[key] = a;
        }
        return a;
    }

    private static (string Key, byte[] Value) Entry(byte[] data)
    {
        var reader = new Reader(data);
        var key = "";
        var value = System.Array.Empty<byte>();
        while (!reader.End)
        {
            var (number, _) = reader.Tag();
            if (number == 1) key = System.Text.Encoding.UTF8.GetString(reader.Bytes());
            else if (number == 2) value = reader.Bytes();
            else throw ApiError.BadRequest($"protobuf: map entry field {number}");
        }
        return (key, value);
    }

    private static string? Time(byte[] data)
    {
        if (data.Length == 0)
        {
            return null;
        }
        var reader = new Reader(data);
        long seconds = 0;
        while (!reader.End)
        {
            var (number, _) = reader.Tag();
            var v = reader.Varint();
            if (number == 1) seconds = v;
        }
        return ObjectRules.Timestamp(DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    private static JsonNode? IntOrString(byte[] data)
    {
        var reader = new Reader(data);
        long type = 0, intVal = 0;
        var strVal = "";
        while (!reader.End)
        {
            var (number, _) = reader.Tag();
            switch (number)
            {
                case 1: type = reader.Varint(); break;
                case 2: intVal = reader.Varint(); break;
                case 3: strVal = System.Text.Encoding.UTF8.GetString(reader.Bytes()); break;
                default: throw ApiError.BadRequest($"protobuf: IntOrString field {number}");
            }
        }
        return type == 1 ? JsonValue.Create(strVal) : JsonValue.Create(intVal);
    }

    private sealed class Reader(byte[] data)
    {
        private int _pos;

        public bool End => _pos >= data.Length;

        public (int Field, int Wire) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public long Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= data.Length)
                {
                    throw ApiError.BadRequest("protobuf: truncated varint");
                }
                var b = data[_pos++];
                result |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return (long)result;
                }
            }
            throw ApiError.BadRequest("protobuf: varint too long");
        }

        public byte[] Bytes()
        {
            var length = Varint();
            if (length < 0 || length > data.Length - _pos)
            {
                throw ApiError.BadRequest("protobuf: length beyond the body");
            }
            var bytes = data.AsSpan(_pos, (int)length).ToArray();
            _pos += (int)length;
            return bytes;
        }
    }
}
