using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>The API server's container rules (<c>validateContainers</c>, <c>validateContainerPorts</c>,
/// <c>ValidateEnv</c>, <c>ValidateVolumeMounts</c>, <c>ValidateSecurityContext</c>, <c>validateProbe</c>).</summary>
internal static class ContainerValidator
{
    public static void Validate(FieldErrorList errors, string path, V1Container c, HashSet<string> names, IReadOnlySet<string> volumes, bool hostUsers = true)
    {
        if (string.IsNullOrEmpty(c.Name))
        {
            errors.Required($"{path}.name");
        }
        else if (ValidationRules.Label(errors, $"{path}.name", c.Name) && !names.Add(c.Name))
        {
            errors.Duplicate($"{path}.name", c.Name);
        }

        if (string.IsNullOrWhiteSpace(c.Image))
        {
            errors.Required($"{path}.image");
        }
        else if (c.Image.Trim() != c.Image)
        {
            errors.Invalid($"{path}.image", c.Image, "must not have leading or trailing whitespace");
        }

        ValidationRules.Enum(errors, $"{path}.imagePullPolicy", c.ImagePullPolicy, "Always", "IfNotPresent", "Never");
        ValidationRules.Enum(errors, $"{path}.terminationMessagePolicy", c.TerminationMessagePolicy, "File", "FallbackToLogsOnError");
        if (c.TerminationMessagePath is { Length: > 0 } tmp && !tmp.StartsWith('/'))
        {
            errors.Invalid($"{path}.terminationMessagePath", tmp, "must be an absolute path");
        }

        ValidatePorts(errors, path, c.Ports);
        ValidateEnv(errors, path, c.Env);
        ValidateMounts(errors, path, c.VolumeMounts, volumes, c.SecurityContext?.Privileged == true);
        if (c.SecurityContext is { } sc)
        {
            ValidationRules.UserId(errors, $"{path}.securityContext.runAsUser", sc.RunAsUser);
            ValidationRules.UserId(errors, $"{path}.securityContext.runAsGroup", sc.RunAsGroup);
            ValidateSecurityContext(errors, $"{path}.securityContext", sc, hostUsers);
            SeccompProfileValidator.Validate(errors, $"{path}.securityContext.seccompProfile", sc.SeccompProfile);
        }

        ValidateProbe(errors, $"{path}.livenessProbe", c.LivenessProbe);
        ValidateProbe(errors, $"{path}.readinessProbe", c.ReadinessProbe);
        ValidateProbe(errors, $"{path}.startupProbe", c.StartupProbe);
    }

    /// <summary>ValidateSecurityContext's rules on privilege escalation and procMount.</summary>
    private static void ValidateSecurityContext(FieldErrorList errors, string path, V1SecurityContext sc, bool hostUsers)
    {
        if (sc.AllowPrivilegeEscalation == false)
        {
            // kubelet treats privileged and CAP_SYS_ADMIN as escalation allowed; the API server refuses the contradiction.
            if (sc.Privileged == true)
            {
                errors.Add((path, "Invalid value: \"allowPrivilegeEscalation: false\": cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
            }

            if (sc.Capabilities?.Add?.Contains("CAP_SYS_ADMIN") == true)
            {
                errors.Add((path, "Invalid value: \"allowPrivilegeEscalation: false\": cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
            }
        }

        if (sc.ProcMount is { } procMount)
        {
            ValidationRules.Enum(errors, $"{path}.procMount", procMount, "Default", "Unmasked");
            if (hostUsers && procMount == "Unmasked")
            {
                errors.Invalid($"{path}.procMount", procMount, "`hostUsers` must be false to use `Unmasked`");
            }
        }
    }

    private static void ValidatePorts(FieldErrorList errors, string path, IList<V1ContainerPort>? ports)
    {
        var i = 0;
        var portNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in ports ?? [])
        {
            var portPath = $"{path}.ports[{i++}]";
            if (p.ContainerPort is < 1 or > 65535)
            {
                errors.Invalid($"{portPath}.containerPort", p.ContainerPort, "must be between 1 and 65535, inclusive");
            }

            if (p.HostPort is < 0 or > 65535)
            {
                errors.Invalid($"{portPath}.hostPort", p.HostPort.Value, "must be between 1 and 65535, inclusive");
            }

            if (p.Protocol is null)
            {
                errors.Required($"{portPath}.protocol");
            }
            else
            {
                ValidationRules.Enum(errors, $"{portPath}.protocol", p.Protocol, "SCTP", "TCP", "UDP");
            }

            // The host IP goes into DNAT rules: only a parsed address may ever reach rule text.
            if (!string.IsNullOrEmpty(p.HostIP))
            {
                ValidationRules.Ip(errors, $"{portPath}.hostIP", p.HostIP);
            }

            if (!string.IsNullOrEmpty(p.Name))
            {
                ValidationRules.PortName(errors, $"{portPath}.name", p.Name);
                if (!portNames.Add(p.Name))
                {
                    errors.Duplicate($"{portPath}.name", p.Name);
                }
            }
        }
    }

    private static void ValidateEnv(FieldErrorList errors, string path, IList<V1EnvVar>? env)
    {
        var i = 0;
        foreach (var e in env ?? [])
        {
            var envPath = $"{path}.env[{i++}]";
            ValidationRules.EnvVarName(errors, $"{envPath}.name", e.Name);
            if (e.ValueFrom is { } from)
            {
                var sources = (from.FieldRef is null ? 0 : 1) + (from.ResourceFieldRef is null ? 0 : 1)
                    + (from.ConfigMapKeyRef is null ? 0 : 1) + (from.SecretKeyRef is null ? 0 : 1) + (from.FileKeyRef is null ? 0 : 1);
                if (sources != 1)
                {
                    errors.Invalid($"{envPath}.valueFrom", string.Empty, "may not have more than one field specified at a time");
                }
                else if (from.FieldRef is { } fieldRef && string.IsNullOrEmpty(fieldRef.FieldPath))
                {
                    errors.Required($"{envPath}.valueFrom.fieldRef.fieldPath");
                }
                else if (from.ResourceFieldRef is { } resourceRef && string.IsNullOrEmpty(resourceRef.Resource))
                {
                    errors.Required($"{envPath}.valueFrom.resourceFieldRef.resource");
                }

                if (!string.IsNullOrEmpty(e.Value))
                {
                    errors.Invalid($"{envPath}.valueFrom", string.Empty, "may not be specified when `value` is not empty");
                }
            }
        }
    }

    private static void ValidateMounts(FieldErrorList errors, string path, IList<V1VolumeMount>? mounts, IReadOnlySet<string> volumes, bool privileged)
    {
        var i = 0;
        var mountPaths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in mounts ?? [])
        {
            var mountPath = $"{path}.volumeMounts[{i++}]";
            if (string.IsNullOrEmpty(m.Name))
            {
                errors.Required($"{mountPath}.name");
            }
            else if (!volumes.Contains(m.Name))
            {
                errors.NotFound($"{mountPath}.name", m.Name);
            }

            if (ValidationRules.AbsolutePath(errors, $"{mountPath}.mountPath", m.MountPath))
            {
                if (m.MountPath.Trim('/').Length == 0)
                {
                    errors.Invalid($"{mountPath}.mountPath", m.MountPath, "must not be the root directory: it would hide the container's whole filesystem");
                }
                else if (!mountPaths.Add(m.MountPath.TrimEnd('/')))
                {
                    errors.Invalid($"{mountPath}.mountPath", m.MountPath, "must be unique");
                }
            }

            if (!string.IsNullOrEmpty(m.SubPath))
            {
                if (m.SubPath.StartsWith('/'))
                {
                    errors.Invalid($"{mountPath}.subPath", m.SubPath, "must be a relative path");
                }
                else
                {
                    ValidationRules.NoBacksteps(errors, $"{mountPath}.subPath", m.SubPath);
                }
            }

            if (!string.IsNullOrEmpty(m.SubPath) && !string.IsNullOrEmpty(m.SubPathExpr))
            {
                errors.Invalid($"{mountPath}.subPathExpr", m.SubPathExpr, "subPathExpr and subPath are mutually exclusive");
            }

            ValidationRules.Enum(errors, $"{mountPath}.mountPropagation", m.MountPropagation, "Bidirectional", "HostToContainer", "None");
            if (m.MountPropagation == "Bidirectional" && !privileged)
            {
                errors.Forbidden($"{mountPath}.mountPropagation", Pods.MountPropagations.BidirectionalNeedsPrivileged);
            }
        }
    }

    private static void ValidateProbe(FieldErrorList errors, string path, V1Probe? probe)
    {
        if (probe is null)
        {
            return;
        }

        ValidationRules.NonNegative(errors, $"{path}.initialDelaySeconds", probe.InitialDelaySeconds);
        Positive(errors, $"{path}.timeoutSeconds", probe.TimeoutSeconds);
        Positive(errors, $"{path}.periodSeconds", probe.PeriodSeconds);
        Positive(errors, $"{path}.successThreshold", probe.SuccessThreshold);
        Positive(errors, $"{path}.failureThreshold", probe.FailureThreshold);
        if (probe.TerminationGracePeriodSeconds is < 1 or > PodValidator.MaxTerminationGracePeriodSeconds)
        {
            errors.Invalid($"{path}.terminationGracePeriodSeconds", probe.TerminationGracePeriodSeconds.Value,
                $"must be between 1 and {PodValidator.MaxTerminationGracePeriodSeconds}, inclusive");
        }

        var handlers = (probe.Exec is null ? 0 : 1) + (probe.HttpGet is null ? 0 : 1) + (probe.TcpSocket is null ? 0 : 1) + (probe.Grpc is null ? 0 : 1);
        if (handlers == 0)
        {
            errors.Required(path, "must specify a handler type");
        }
        else if (handlers > 1)
        {
            errors.Add((path, "Forbidden: may not specify more than 1 handler type"));
        }
    }

    private static void Positive(FieldErrorList errors, string path, int? value)
    {
        if (value < 1)
        {
            errors.Invalid(path, value.Value, "must be greater than or equal to 1");
        }
    }
}
