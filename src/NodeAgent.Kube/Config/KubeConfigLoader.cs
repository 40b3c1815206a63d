using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NodeAgent.Kube.Config;

/// <summary>
/// Loads kubeconfig files the way kubectl does: clusters, users and contexts by name, <c>current-context</c> (or an
/// explicit context), several files merged first-wins as with <c>KUBECONFIG=a:b</c>, relative paths resolved against
/// the file that names them, certificates and keys from files or inline base64 data. Every error names the file and
/// the field.
/// </summary>
public static class KubeConfigLoader
{
    /// <summary>Loads one kubeconfig file.</summary>
    public static KubeClientConfig LoadFile(string path, string? context = null) => Load([path], context);

    /// <summary>Loads the files of a <c>KUBECONFIG</c>-style list, merged as kubectl merges them (the first file to define a name wins).</summary>
    public static KubeClientConfig Load(IReadOnlyList<string> paths, string? context = null)
    {
        if (paths.Count == 0)
        {
            throw new ArgumentException("no kubeconfig files given", nameof(paths));
        }
        var clusters = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var users = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var contexts = new Dictionary<string, Entry>(StringComparer.Ordinal);
        string? current = null;
        string? currentSource = null;
        foreach (var path in paths)
        {
            var root = ReadRoot(path);
            if (current is null && Scalar(root, "current-context", path, "current-context") is { Length: > 0 } cc)
            {
                current = cc;
                currentSource = path;
            }
            Collect(root, "clusters", "cluster", path, clusters);
            Collect(root, "users", "user", path, users);
            Collect(root, "contexts", "context", path, contexts);
        }
        var sourceName = string.Join(":", paths);
        var contextName = context ?? current;
        if (string.IsNullOrEmpty(contextName))
        {
            throw new KubeConfigException(sourceName, "current-context", "is not set and no context was given");
        }
        if (!contexts.TryGetValue(contextName, out var ctx))
        {
            throw new KubeConfigException(currentSource ?? sourceName, context is null ? "current-context" : "contexts",
                $"context \"{contextName}\" does not exist");
        }
        var clusterName = Scalar(ctx.Body, "cluster", ctx.File, ctx.Field("cluster"));
        var userName = Scalar(ctx.Body, "user", ctx.File, ctx.Field("user"));
        if (string.IsNullOrEmpty(clusterName))
        {
            throw new KubeConfigException(ctx.File, ctx.Field("cluster"), "is empty");
        }
        if (!clusters.TryGetValue(clusterName, out var cluster))
        {
            throw new KubeConfigException(ctx.File, ctx.Field("cluster"), $"cluster \"{clusterName}\" does not exist");
        }
        Entry? user = null;
        if (!string.IsNullOrEmpty(userName) && !users.TryGetValue(userName, out user))
        {
            throw new KubeConfigException(ctx.File, ctx.Field("user"), $"user \"{userName}\" does not exist");
        }
        var ns = Scalar(ctx.Body, "namespace", ctx.File, ctx.Field("namespace"));
        var config = BuildCluster(cluster, $"kubeconfig {sourceName} context {contextName}");
        if (user is not null)
        {
            config = ApplyUser(config, user);
        }
        return config with { Namespace = string.IsNullOrEmpty(ns) ? "default" : ns };
    }

    private static KubeClientConfig BuildCluster(Entry cluster, string description)
    {
        var serverText = Scalar(cluster.Body, "server", cluster.File, cluster.Field("server"));
        if (string.IsNullOrEmpty(serverText))
        {
            throw new KubeConfigException(cluster.File, cluster.Field("server"), "is empty (no server to talk to)");
        }
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || (server.Scheme != "https" && server.Scheme != "http"))
        {
            throw new KubeConfigException(cluster.File, cluster.Field("server"), $"\"{serverText}\" is not an http(s) URL");
        }
        var insecure = Bool(cluster.Body, "insecure-skip-tls-verify", cluster.File, cluster.Field("insecure-skip-tls-verify"));
        var caFile = Scalar(cluster.Body, "certificate-authority", cluster.File, cluster.Field("certificate-authority"));
        var caData = Scalar(cluster.Body, "certificate-authority-data", cluster.File, cluster.Field("certificate-authority-data"));
        if (!string.IsNullOrEmpty(caFile) && !string.IsNullOrEmpty(caData))
        {
            throw new KubeConfigException(cluster.File, cluster.Field("certificate-authority"),
                "certificate-authority-data and certificate-authority are both specified; please specify only one");
        }
        X509Certificate2Collection? cas = null;
        if (!string.IsNullOrEmpty(caFile) || !string.IsNullOrEmpty(caData))
        {
            if (insecure)
            {
                throw new KubeConfigException(cluster.File, cluster.Field("insecure-skip-tls-verify"),
                    "specifying a root certificates file with the insecure flag is not allowed");
            }
            var (pem, field) = string.IsNullOrEmpty(caData)
                ? (ReadFile(cluster, "certificate-authority", caFile!), cluster.Field("certificate-authority"))
                : (DecodeData(cluster, "certificate-authority-data", caData), cluster.Field("certificate-authority-data"));
            cas = new X509Certificate2Collection();
            try
            {
                cas.ImportFromPem(pem);
            }
            catch (CryptographicException e)
            {
                throw new KubeConfigException(cluster.File, field, $"no valid PEM certificate: {e.Message}", e);
            }
            if (cas.Count == 0)
            {
                throw new KubeConfigException(cluster.File, field, "holds no PEM certificate");
            }
        }
        var tlsServerName = Scalar(cluster.Body, "tls-server-name", cluster.File, cluster.Field("tls-server-name"));
        return new KubeClientConfig
        {
            Server = server,
            Description = description,
            InsecureSkipTlsVerify = insecure,
            CertificateAuthorities = cas,
            TlsServerName = string.IsNullOrEmpty(tlsServerName) ? null : tlsServerName,
        };
    }

    private static KubeClientConfig ApplyUser(KubeClientConfig config, Entry user)
    {
        foreach (var unsupported in new[] { "exec", "auth-provider", "username", "password", "as", "as-groups" })
        {
            if (user.Body.Children.ContainsKey(new YamlScalarNode(unsupported)))
            {
                throw new KubeConfigException(user.File, user.Field(unsupported), "is not supported by nodeagent (use a client certificate or a token)");
            }
        }
        var certFile = Scalar(user.Body, "client-certificate", user.File, user.Field("client-certificate"));
        var certData = Scalar(user.Body, "client-certificate-data", user.File, user.Field("client-certificate-data"));
        var keyFile = Scalar(user.Body, "client-key", user.File, user.Field("client-key"));
        var keyData = Scalar(user.Body, "client-key-data", user.File, user.Field("client-key-data"));
        if (!string.IsNullOrEmpty(certFile) && !string.IsNullOrEmpty(certData))
        {
            throw new KubeConfigException(user.File, user.Field("client-certificate"),
                "client-cert-data and client-cert are both specified; please specify only one");
        }
        if (!string.IsNullOrEmpty(keyFile) && !string.IsNullOrEmpty(keyData))
        {
            throw new KubeConfigException(user.File, user.Field("client-key"),
                "client-key-data and client-key are both specified; please specify only one");
        }
        var hasCert = !string.IsNullOrEmpty(certFile) || !string.IsNullOrEmpty(certData);
        var hasKey = !string.IsNullOrEmpty(keyFile) || !string.IsNullOrEmpty(keyData);
        X509Certificate2? certificate = null;
        if (hasCert != hasKey)
        {
            throw new KubeConfigException(user.File, user.Field(hasCert ? "client-key" : "client-certificate"),
                hasCert ? "client certificate given without its key" : "client key given without its certificate");
        }
        if (hasCert)
        {
            var certPem = string.IsNullOrEmpty(certData) ? ReadFile(user, "client-certificate", certFile!) : DecodeData(user, "client-certificate-data", certData);
            var keyPem = string.IsNullOrEmpty(keyData) ? ReadFile(user, "client-key", keyFile!) : DecodeData(user, "client-key-data", keyData);
            try
            {
                certificate = X509Certificate2.CreateFromPem(certPem, keyPem);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                throw new KubeConfigException(user.File, user.Field(string.IsNullOrEmpty(certData) ? "client-certificate" : "client-certificate-data"),
                    $"certificate and key do not load as a pair: {e.Message}", e);
            }
        }
        var token = Scalar(user.Body, "token", user.File, user.Field("token"));
        var tokenFile = Scalar(user.Body, "tokenFile", user.File, user.Field("tokenFile"));
        if (!string.IsNullOrEmpty(tokenFile))
        {
            tokenFile = Resolve(user.File, tokenFile);
            if (!File.Exists(tokenFile))
            {
                throw new KubeConfigException(user.File, user.Field("tokenFile"), $"file {tokenFile} does not exist");
            }
        }
        return config with
        {
            ClientCertificate = certificate,
            BearerToken = string.IsNullOrEmpty(token) ? null : token,
            BearerTokenFile = string.IsNullOrEmpty(tokenFile) ? null : tokenFile,
        };
    }

    private static string ReadFile(Entry entry, string key, string path)
    {
        var full = Resolve(entry.File, path);
        try
        {
            return File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException(entry.File, entry.Field(key), $"cannot read {full}: {e.Message}", e);
        }
    }

    private static string DecodeData(Entry entry, string key, string base64)
    {
        try
        {
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException e)
        {
            throw new KubeConfigException(entry.File, entry.Field(key), "is not valid base64", e);
        }
    }

    private static string Resolve(string configFile, string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configFile)) ?? "/", path));

    private static YamlMappingNode ReadRoot(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException(path, "(file)", $"cannot read: {e.Message}", e);
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new KubeConfigException(path, $"line {e.Start.Line}", $"not valid YAML: {e.Message}", e);
        }
        if (stream.Documents.Count == 0)
        {
            return new YamlMappingNode();
        }
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new KubeConfigException(path, "(document)", "is not a mapping");
    }

    private static void Collect(YamlMappingNode root, string listKey, string bodyKey, string file, Dictionary<string, Entry> into)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(listKey), out var node) || node is YamlScalarNode { Value: null or "" or "null" })
        {
            return;
        }
        if (node is not YamlSequenceNode seq)
        {
            throw new KubeConfigException(file, listKey, "is not a list");
        }
        var index = 0;
        foreach (var item in seq)
        {
            var where = $"{listKey}[{index}]";
            if (item is not YamlMappingNode map)
            {
                throw new KubeConfigException(file, where, "is not a mapping");
            }
            var name = Scalar(map, "name", file, where + ".name");
            if (string.IsNullOrEmpty(name))
            {
                throw new KubeConfigException(file, where + ".name", "is empty");
            }
            map.Children.TryGetValue(new YamlScalarNode(bodyKey), out var body);
            if (body is not null and not YamlMappingNode)
            {
                throw new KubeConfigException(file, $"{listKey}[{name}].{bodyKey}", "is not a mapping");
            }
            into.TryAdd(name, new Entry(file, $"{listKey}[{name}].{bodyKey}", body as YamlMappingNode ?? new YamlMappingNode()));
            index++;
        }
    }

    private static string? Scalar(YamlMappingNode map, string key, string file, string field)
    {
        if (!map.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            return null;
        }
        return node is YamlScalarNode scalar
            ? scalar.Value
            : throw new KubeConfigException(file, field, "is not a string");
    }

    private static bool Bool(YamlMappingNode map, string key, string file, string field) =>
        Scalar(map, key, file, field) switch
        {
            null or "" or "false" or "False" => false,
            "true" or "True" => true,
            var other => throw new KubeConfigException(file, field, $"\"{other}\" is not a boolean"),
        };

    private sealed record Entry(string File, string Path, YamlMappingNode Body)
    {
        public string Field(string key) => $"{Path}.{key}";
    }
}
