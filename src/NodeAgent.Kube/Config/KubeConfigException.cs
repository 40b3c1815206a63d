namespace NodeAgent.Kube.Config;

/// <summary>A kubeconfig (or the in-cluster environment) that cannot be used; the message names the file, the field and why.</summary>
public sealed class KubeConfigException : Exception
{
    public KubeConfigException(string source, string field, string reason, Exception? inner = null)
        : base($"kubeconfig {source}: {field}: {reason}", inner)
    {
        ConfigSource = source;
        Field = field;
    }

    /// <summary>The file (or "in-cluster") the problem is in.</summary>
    public string ConfigSource { get; }

    /// <summary>The field path inside it, as kubectl spells it (e.g. <c>users[node].user.client-key</c>).</summary>
    public string Field { get; }
}
