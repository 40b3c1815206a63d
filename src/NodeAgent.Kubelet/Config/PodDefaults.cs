using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The API server's defaulting of a v1 Pod (<c>pkg/apis/core/v1/defaults.go</c>), which kubelet's decoder applies
/// to static pods before hashing them: restartPolicy, dnsPolicy, grace period, scheduler name, security context,
/// container pull policy, termination message, port protocol, probe and volume defaults.
/// </summary>
public static class PodDefaults
{
    /// <summary>Fills the unset fields of <paramref name="pod"/> in place.</summary>
    public static void Apply(V1Pod pod)
    {
        pod.Spec ??= new V1PodSpec();
        var spec = pod.Spec;
        spec.RestartPolicy ??= "Always";
        spec.DnsPolicy ??= "ClusterFirst";
        spec.TerminationGracePeriodSeconds ??= 30;
        spec.SchedulerName ??= "default-scheduler";
        spec.SecurityContext ??= new V1PodSecurityContext();
        spec.EnableServiceLinks ??= true;
        spec.Containers ??= [];
        var hostNetwork = spec.HostNetwork == true;
        // Null items are refused before decoding (ManifestJsonChecks); skipping them here keeps defaulting total.
        foreach (var c in spec.InitContainers ?? [])
        {
            if (c is not null)
            {
                ApplyContainer(c, hostNetwork);
            }
        }

        foreach (var c in spec.Containers)
        {
            if (c is not null)
            {
                ApplyContainer(c, hostNetwork);
            }
        }

        foreach (var v in spec.Volumes ?? [])
        {
            if (v is not null)
            {
                ApplyVolume(v);
            }
        }
    }

    /// <summary>The API server's rule (<c>parsers.ParseImageName</c>): Always when the tag is <c>latest</c>, written
    /// (also <c>name:latest@digest</c>) or implied (no tag and no digest); IfNotPresent otherwise (<c>name@digest</c>,
    /// other tags, a name that does not parse).</summary>
    public static string DefaultPullPolicy(string? image) =>
        !string.IsNullOrEmpty(image) && NodeAgent.Cri.ImageReference.TryParse(image, out var parsed, out _) && parsed.Tag == "latest"
            ? "Always"
            : "IfNotPresent";

    private static void ApplyContainer(V1Container c, bool hostNetwork)
    {
        c.ImagePullPolicy ??= DefaultPullPolicy(c.Image);
        c.TerminationMessagePath ??= "/dev/termination-log";
        c.TerminationMessagePolicy ??= "File";
        c.Resources ??= new V1ResourceRequirements();
        if (c.Resources.Limits is { Count: > 0 } limits)
        {
            // A limit without a request makes the request equal to the limit.
            c.Resources.Requests ??= new Dictionary<string, ResourceQuantity>();
            foreach (var (name, quantity) in limits)
            {
                if (quantity is not null)
                {
                    c.Resources.Requests.TryAdd(name, quantity);
                }
            }
        }

        foreach (var p in (c.Ports ?? []).Where(p => p is not null))
        {
            p.Protocol ??= "TCP";
            if (hostNetwork && (p.HostPort is null or 0))
            {
                p.HostPort = p.ContainerPort;
            }
        }

        foreach (var e in c.Env ?? [])
        {
            if (e?.ValueFrom?.FieldRef is { } fieldRef)
            {
                fieldRef.ApiVersion ??= "v1";
            }
        }

        ApplyProbe(c.LivenessProbe);
        ApplyProbe(c.ReadinessProbe);
        ApplyProbe(c.StartupProbe);
    }

    private static void ApplyProbe(V1Probe? probe)
    {
        if (probe is null)
        {
            return;
        }

        probe.TimeoutSeconds ??= 1;
        probe.PeriodSeconds ??= 10;
        probe.SuccessThreshold ??= 1;
        probe.FailureThreshold ??= 3;
        if (probe.HttpGet is { } httpGet)
        {
            httpGet.Path ??= "/";
            httpGet.Scheme ??= "HTTP";
        }
    }

    private static void ApplyVolume(V1Volume v)
    {
        if (v.EmptyDir is null && v.HostPath is null && v.ConfigMap is null && v.Secret is null && v.Projected is null
            && v.DownwardAPI is null && v.PersistentVolumeClaim is null && v.Nfs is null && v.Csi is null
            && v.Ephemeral is null && v.Image is null)
        {
            v.EmptyDir = new V1EmptyDirVolumeSource();
        }

        if (v.HostPath is { } hostPath)
        {
            hostPath.Type ??= string.Empty;
        }

        if (v.ConfigMap is { } configMap)
        {
            configMap.DefaultMode ??= 420;
        }

        if (v.Secret is { } secret)
        {
            secret.DefaultMode ??= 420;
        }

        if (v.Projected is { } projected)
        {
            projected.DefaultMode ??= 420;
        }

        if (v.DownwardAPI is { } downwardApi)
        {
            downwardApi.DefaultMode ??= 420;
        }
    }
}
