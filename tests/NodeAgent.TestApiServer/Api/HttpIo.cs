using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace NodeAgent.TestApiServer.Api;

/// <summary>Writing JSON bodies and Status errors.</summary>
public static class HttpIo
{
    public static async Task WriteJsonAsync(HttpContext context, int code, JsonNode body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToWire(), context.RequestAborted);
    }

    public static async Task WriteBytesAsync(HttpContext context, int code, byte[] body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    public static JsonObject Status(ApiError e)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = e.Message,
            ["reason"] = e.Reason,
        };
        if (e.Name is not null || e.Kind is not null || e.Causes.Count > 0)
        {
            var details = new JsonObject();
            if (e.Name is not null) details["name"] = e.Name;
            if (!string.IsNullOrEmpty(e.Group)) details["group"] = e.Group;
            if (e.Kind is not null) details["kind"] = e.Kind;
            if (e.Causes.Count > 0)
            {
                details["causes"] = new JsonArray(e.Causes.Select(c => (JsonNode?)new JsonObject
                {
                    ["reason"] = c.Type,
                    ["message"] = c.Message,
                    ["field"] = c.Field,
                }).ToArray());
            }
            status["details"] = details;
        }
        status["code"] = e.Code;
        return status;
    }

    public static Task WriteErrorAsync(HttpContext context, ApiError e) => WriteJsonAsync(context, e.Code, Status(e));

    public static async Task<JsonNode> ReadBodyAsync(HttpContext context)
    {
        var type = context.Request.ContentType?.Split(';')[0].Trim();
        if (ProtobufDecoder.IsProtobuf(type))
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            if (buffer.Length > 3 * 1024 * 1024)
            {
                throw new ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
            }
            return ProtobufDecoder.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        if (type is not null && type != "application/json" && !type.EndsWith("+json", StringComparison.Ordinal) && type != "application/yaml")
        {
            // Only JSON is served; clients that try protobuf or CBOR get the real server's answer for an unknown type.
            throw new ApiError(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json");
        }
        using var reader = new StreamReader(context.Request.Body);
        var text = await reader.ReadToEndAsync(context.RequestAborted);
        if (text.Length > 3 * 1024 * 1024)
        {
            throw new ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
        }
        try
        {
            return JsonNode.Parse(text) ?? throw ApiError.BadRequest("the request body is empty");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw ApiError.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>True when the Accept header asks for a meta.k8s.io Table.</summary>
    public static bool WantsTable(HttpContext context) =>
        context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);
}
