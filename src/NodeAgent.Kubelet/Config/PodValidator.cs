using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The subset of the API server's <c>ValidatePodCreate</c> (<c>pkg/apis/core/validation/validation.go</c>) that
/// static pods need, with the API server's field paths and messages: metadata (names, namespace, UID, labels,
/// annotation size), the pod spec's enumerations and integer ranges, security contexts, DNS config, host aliases,
/// containers (<see cref="ContainerValidator"/>) and volumes (<see cref="VolumeValidator"/>). Quantities, null list
/// items and NUL bytes are checked on the JSON before decoding (<see cref="ManifestJsonChecks"/>).
/// </summary>
public static class PodValidator
{
    /// <summary>
    /// The longest grace period accepted: 4,294,967 s (about 49.7 days), the longest delay a .NET timer can wait
    /// (2^32-2 ms). kubelet takes any int64, but a longer period could never be waited for here and would overflow
    /// TimeSpan arithmetic; the API server's only rule is "greater than or equal to 0".
    /// </summary>
    public const long MaxTerminationGracePeriodSeconds = 4_294_967;

    /// <summary>The API server's limit on the total size of a pod's annotations (keys and values).</summary>
    public const int MaxAnnotationsBytes = 256 * 1024;

    /// <summary>
    /// Validates a decoded, defaulted pod as written in the manifest (before the node suffix is added to its name).
    /// Returns (field path, reason) pairs; empty when valid.
    /// </summary>
    public static IReadOnlyList<(string Field, string Reason)> Validate(V1Pod pod, string nodeName) => ValidatePod(pod, nodeName);

    /// <summary>Validates a pod from the API server: its name is final (no node suffix is added).</summary>
    public static IReadOnlyList<(string Field, string Reason)> ValidateApiPod(V1Pod pod) => ValidatePod(pod, null);

    private static IReadOnlyList<(string Field, string Reason)> ValidatePod(V1Pod pod, string? nodeName)
    {
        var errors = new FieldErrorList();
        ValidateMetadata(errors, pod.Metadata, nodeName);
        var spec = pod.Spec;
        if (spec is null)
        {
            errors.Required("spec");
            return errors;
        }

        var volumes = VolumeValidator.Validate(errors, spec.Volumes);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var c in spec.InitContainers ?? [])
        {
            SidecarRules.ValidateInit(errors, $"spec.initContainers[{i}]", c, spec.Os);
            ContainerValidator.Validate(errors, $"spec.initContainers[{i++}]", c, names, volumes, spec.HostUsers != false);
        }

        if (spec.Containers is not { Count: > 0 })
        {
            errors.Required("spec.containers");
        }
        else
        {
            i = 0;
            foreach (var c in spec.Containers)
            {
                SidecarRules.ValidateRegular(errors, $"spec.containers[{i}]", c, spec.Os);
                ContainerValidator.Validate(errors, $"spec.containers[{i++}]", c, names, volumes, spec.HostUsers != false);
            }
        }

        ValidationRules.Enum(errors, "spec.restartPolicy", spec.RestartPolicy, "Always", "OnFailure", "Never");
        ValidationRules.Enum(errors, "spec.dnsPolicy", spec.DnsPolicy, "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None");
        if (spec.TerminationGracePeriodSeconds is { } grace)
        {
            if (grace < 0)
            {
                errors.Invalid("spec.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0");
            }
            else if (grace > MaxTerminationGracePeriodSeconds)
            {
                errors.Invalid("spec.terminationGracePeriodSeconds", grace,
                    $"must be no more than {MaxTerminationGracePeriodSeconds} (about 49.7 days, the longest wait the agent can time)");
            }
        }

        if (spec.ActiveDeadlineSeconds is < 1 or > int.MaxValue)
        {
            errors.Invalid("spec.activeDeadlineSeconds", spec.ActiveDeadlineSeconds.Value, $"must be between 1 and {int.MaxValue}, inclusive");
        }

        ValidatePodSecurityContext(errors, spec.SecurityContext);
        ValidateDns(errors, spec);
        ValidateHostAliases(errors, spec.HostAliases);
        if (!string.IsNullOrEmpty(spec.Hostname))
        {
            ValidationRules.Label(errors, "spec.hostname", spec.Hostname);
        }

        if (!string.IsNullOrEmpty(spec.Subdomain))
        {
            ValidationRules.Label(errors, "spec.subdomain", spec.Subdomain);
        }

        return errors;
    }

    /// <summary>
    /// A UID names the pod's directories (<c>pods/&lt;uid&gt;</c>, <c>&lt;ns&gt;_&lt;name&gt;_&lt;uid&gt;</c> log
    /// directories): only letters, digits, '-' and '.', not starting with '.', at most 128 characters. The API server
    /// assigns UIDs itself; a static pod may carry one in its manifest, so it is checked before any path is built.
    /// </summary>
    public static bool IsValidUid(string uid) =>
        uid.Length is > 0 and <= 128 && uid[0] != '.' && uid.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');

    private static void ValidateMetadata(FieldErrorList errors, V1ObjectMeta? meta, string? nodeName)
    {
        var name = meta?.Name;
        if (string.IsNullOrEmpty(name))
        {
            errors.Required("metadata.name", "name or generateName is required");
        }
        else if (ValidationRules.Subdomain(errors, "metadata.name", name) && nodeName is not null)
        {
            var full = $"{name}-{nodeName.ToLowerInvariant()}";
            if (full.Length > 253)
            {
                errors.Invalid("metadata.name", full, "must be no more than 253 characters (static pod name is <name>-<nodeName>)");
            }
        }

        if (meta?.NamespaceProperty is { Length: > 0 } ns)
        {
            ValidationRules.Label(errors, "metadata.namespace", ns);
        }

        if (meta?.Uid is { Length: > 0 } uid && !IsValidUid(uid))
        {
            errors.Invalid("metadata.uid", uid, "must consist of letters, digits, '-' or '.', must not start with '.', and must be no more than 128 characters (it names the pod's directories)");
        }

        if (meta?.Annotations is { } annotations)
        {
            long size = 0;
            foreach (var (k, v) in annotations)
            {
                size += k.Length + (v?.Length ?? 0);
            }

            if (size > MaxAnnotationsBytes)
            {
                errors.Add(("metadata.annotations", $"Too long: may not be more than {MaxAnnotationsBytes} bytes"));
            }
        }

        foreach (var (k, v) in meta?.Labels ?? new Dictionary<string, string>())
        {
            if (k.Length is 0 or > 317 || k.Any(char.IsControl) || k.Count(c => c == '/') > 1)
            {
                errors.Invalid("metadata.labels", k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
            }

            if (v is { Length: > 63 } || (v is { Length: > 0 } && (!char.IsAsciiLetterOrDigit(v[0]) || !char.IsAsciiLetterOrDigit(v[^1])
                || v.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.')))))
            {
                errors.Invalid($"metadata.labels[{k}]", v!, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and must be no more than 63 characters");
            }
        }
    }

    private static void ValidatePodSecurityContext(FieldErrorList errors, V1PodSecurityContext? sc)
    {
        if (sc is null)
        {
            return;
        }

        ValidationRules.UserId(errors, "spec.securityContext.runAsUser", sc.RunAsUser);
        ValidationRules.UserId(errors, "spec.securityContext.runAsGroup", sc.RunAsGroup);
        ValidationRules.UserId(errors, "spec.securityContext.fsGroup", sc.FsGroup);
        SeccompProfileValidator.Validate(errors, "spec.securityContext.seccompProfile", sc.SeccompProfile);
        var i = 0;
        foreach (var g in sc.SupplementalGroups ?? [])
        {
            ValidationRules.UserId(errors, $"spec.securityContext.supplementalGroups[{i++}]", g);
        }

        ValidateSysctls(errors, sc.Sysctls);
    }

    /// <summary>The API server's validateSysctls: each name present, valid (dotted or slash form) and not repeated.</summary>
    private static void ValidateSysctls(FieldErrorList errors, IList<V1Sysctl>? sysctls)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var sysctl in sysctls ?? [])
        {
            var path = $"spec.securityContext.sysctls[{i++}].name";
            if (string.IsNullOrEmpty(sysctl?.Name))
            {
                errors.Required(path);
            }
            else if (!SysctlNames.IsValidName(sysctl.Name))
            {
                errors.Invalid(path, sysctl.Name, $"must have at most {SysctlNames.MaxLength} characters and match regex {SysctlNames.NameRegex}");
            }
            else if (!names.Add(SysctlNames.ToDotted(sysctl.Name)))
            {
                errors.Duplicate(path, sysctl.Name);
            }
        }
    }

    private static void ValidateDns(FieldErrorList errors, V1PodSpec spec)
    {
        var dns = spec.DnsConfig;
        if (spec.DnsPolicy == "None" && dns is null)
        {
            errors.Required("spec.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None");
        }

        if (dns is null)
        {
            return;
        }

        var i = 0;
        foreach (var ns in dns.Nameservers ?? [])
        {
            ValidationRules.Ip(errors, $"spec.dnsConfig.nameservers[{i++}]", ns ?? string.Empty);
        }

        if (i > 3)
        {
            errors.Invalid("spec.dnsConfig.nameservers", string.Join(' ', dns.Nameservers!), "must not have more than 3 nameservers");
        }

        i = 0;
        foreach (var search in dns.Searches ?? [])
        {
            var path = $"spec.dnsConfig.searches[{i++}]";
            var trimmed = (search ?? string.Empty).TrimEnd('.');
            if (trimmed.Length == 0 && search == ".")
            {
                continue;
            }

            ValidationRules.Subdomain(errors, path, trimmed);
        }

        if (i > 32)
        {
            errors.Invalid("spec.dnsConfig.searches", $"{i} domains", "must not have more than 32 search paths");
        }

        i = 0;
        foreach (var option in dns.Options ?? [])
        {
            var path = $"spec.dnsConfig.options[{i++}]";
            if (string.IsNullOrEmpty(option.Name))
            {
                errors.Required($"{path}.name");
            }
            else if (option.Name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                errors.Invalid($"{path}.name", option.Name, "must not contain whitespace or control characters");
            }

            if (option.Value is { } value && value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                errors.Invalid($"{path}.value", value, "must not contain whitespace or control characters");
            }
        }
    }

    private static void ValidateHostAliases(FieldErrorList errors, IList<V1HostAlias>? aliases)
    {
        var i = 0;
        foreach (var alias in aliases ?? [])
        {
            var path = $"spec.hostAliases[{i++}]";
            ValidationRules.Ip(errors, $"{path}.ip", alias.Ip ?? string.Empty);
            var j = 0;
            foreach (var hostname in alias.Hostnames ?? [])
            {
                ValidationRules.Subdomain(errors, $"{path}.hostnames[{j++}]", hostname ?? string.Empty);
            }
        }
    }
}
