using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// Gives a decoded, defaulted static pod its identity, as kubelet's <c>config/common.go</c> <c>applyDefaults</c>.
/// </summary>
/// <remarks>
/// UID: when the manifest has none, the lowercase hex MD5 of the pod as decoded and defaulted (before any identity
/// field is set), followed by <c>host:&lt;nodeName&gt;</c> and <c>file:&lt;path&gt;</c> for the file source, or by
/// <c>url:&lt;url&gt;</c> for the http source — kubelet's recipe. kubelet hashes Go's <c>spew</c> dump of its internal
/// struct; we hash the pod's canonical JSON (<see cref="KubernetesJson"/>), so the UIDs are computed the same way and
/// change on the same edits, but are not byte-identical to the UIDs kubelet would give. Any change to the manifest,
/// the node name or the source path therefore gives a new UID: pod config then removes the old pod and adds the new
/// one, as kubelet does.
/// </remarks>
public sealed class StaticPodNormalizer
{
    /// <summary>Creates a normaliser for pods of <paramref name="source"/> on node <paramref name="nodeName"/>.</summary>
    public StaticPodNormalizer(string nodeName, string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        ArgumentException.ThrowIfNullOrEmpty(source);
        NodeName = nodeName;
        Source = source;
    }

    /// <summary>The node the pods are bound to.</summary>
    public string NodeName { get; }

    /// <summary><see cref="PodSourceNames.File"/> or <see cref="PodSourceNames.Http"/>.</summary>
    public string Source { get; }

    /// <summary>The name a static pod gets on this node: <c>&lt;name&gt;-&lt;lowercase nodeName&gt;</c>.</summary>
    public string PodName(string manifestName) => $"{manifestName}-{NodeName.ToLowerInvariant()}";

    /// <summary>The UID kubelet's recipe gives <paramref name="pod"/> read from <paramref name="origin"/> (file path or URL).</summary>
    public string ComputeUid(V1Pod pod, string origin)
    {
        // MD5 of the pod's JSON followed by the source's suffix, hashed as it is written.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        md5.AppendData(UnpooledJson.Write(pod).WrittenSpan);
        var suffix = Source == PodSourceNames.File ? $"host:{NodeName}file:{origin}" : $"url:{origin}";
        md5.AppendData(Encoding.UTF8.GetBytes(suffix));
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    /// <summary>
    /// Sets UID (unless the manifest has one), name, namespace, nodeName, the hash and source annotations, the
    /// NoExecute toleration of file pods, and phase Pending. <paramref name="pod"/> must already be defaulted.
    /// </summary>
    public void Normalize(V1Pod pod, string origin)
    {
        pod.Metadata ??= new V1ObjectMeta();
        var meta = pod.Metadata;
        if (string.IsNullOrEmpty(meta.Uid))
        {
            meta.Uid = ComputeUid(pod, origin);
        }

        meta.Name = PodName(meta.Name ?? string.Empty);
        if (string.IsNullOrEmpty(meta.NamespaceProperty))
        {
            meta.NamespaceProperty = "default";
        }

        pod.Spec ??= new V1PodSpec();
        pod.Spec.NodeName = NodeName;
        meta.Annotations ??= new Dictionary<string, string>();
        meta.Annotations[ConfigAnnotations.Hash] = meta.Uid;
        meta.Annotations[ConfigAnnotations.Source] = Source;
        if (Source == PodSourceNames.File)
        {
            // kubelet tolerates every NoExecute taint for file pods so node problems never evict them.
            AddOrUpdateToleration(pod.Spec, new V1Toleration { OperatorProperty = "Exists", Effect = "NoExecute" });
        }

        pod.Status ??= new V1PodStatus();
        pod.Status.Phase = "Pending";
    }

    private static void AddOrUpdateToleration(V1PodSpec spec, V1Toleration toleration)
    {
        spec.Tolerations ??= [];
        for (var i = 0; i < spec.Tolerations.Count; i++)
        {
            var t = spec.Tolerations[i];
            if (t.Key == toleration.Key && t.Effect == toleration.Effect && (t.OperatorProperty ?? "Equal") == toleration.OperatorProperty)
            {
                spec.Tolerations[i] = toleration;
                return;
            }
        }

        spec.Tolerations.Add(toleration);
    }
}
