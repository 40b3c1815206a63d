using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>The API server's <c>validateSeccompProfileField</c>: a known type; Localhost needs a
/// <c>localhostProfile</c> that is a relative path without <c>..</c>; the other types must not have one.</summary>
internal static class SeccompProfileValidator
{
    public static void Validate(FieldErrorList errors, string path, V1SeccompProfile? profile)
    {
        if (profile is null)
        {
            return;
        }

        if (string.IsNullOrEmpty(profile.Type))
        {
            errors.Required($"{path}.type", "type is required when seccompProfile is set");
        }
        else
        {
            ValidationRules.Enum(errors, $"{path}.type", profile.Type, "Localhost", "RuntimeDefault", "Unconfined");
        }

        var local = profile.LocalhostProfile;
        if (profile.Type != "Localhost")
        {
            if (local is not null)
            {
                errors.Invalid($"{path}.localhostProfile", local, "can only be set when seccomp type is Localhost");
            }

            return;
        }

        if (local is null)
        {
            errors.Required($"{path}.localhostProfile", "must be set when seccomp type is Localhost");
            return;
        }

        // validateLocalDescendingPath
        if (local.StartsWith('/'))
        {
            errors.Invalid($"{path}.localhostProfile", local, "must be a relative path");
        }

        if (local.Replace('\\', '/').Split('/').Contains(".."))
        {
            errors.Invalid($"{path}.localhostProfile", local, "must not contain '..'");
        }
    }
}
