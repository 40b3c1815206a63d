using System.Globalization;

namespace NodeAgent.Runtime.Containers;

/// <summary>
/// kubelet's verifyRunAsNonRoot: with runAsNonRoot set, a container whose runAsUser is 0, or that has no runAsUser
/// and whose image user is root (no USER counts as root), non-numeric (it cannot be checked) or not a valid user ID,
/// is refused, with kubelet's messages. The image user is read as containerd's ImageStatus reports it: the part
/// before the first <c>:</c>, a number as a UID, anything else as a user name.
/// </summary>
public static class NonRootPolicy
{
    /// <summary>Null when the container may run; otherwise kubelet's error message.</summary>
    /// <param name="pod">kubelet's pod description, <c>name_namespace(uid)</c>.</param>
    public static string? Check(string pod, string container, bool runAsNonRoot, long? runAsUser, string? imageUser)
    {
        if (!runAsNonRoot)
        {
            return null;
        }

        if (runAsUser is { } uid)
        {
            return uid == 0 ? $"container's runAsUser breaks non-root policy (pod: \"{pod}\", container: {container})" : null;
        }

        var user = (imageUser ?? "").Split(':', 2)[0];
        if (user.Length > 0 && !long.TryParse(user, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            return $"container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root (pod: \"{pod}\", container: {container})";
        }

        var imageUid = user.Length == 0 ? 0 : long.Parse(user, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        if (imageUid == 0)
        {
            return $"container has runAsNonRoot and image will run as root (pod: \"{pod}\", container: {container})";
        }

        return imageUid is < 0 or > int.MaxValue
            ? $"container has runAsNonRoot and image has an invalid user id ({imageUid}). (Must be 1-({int.MaxValue})): must be between 0 and {int.MaxValue}, inclusive (pod: \"{pod}\", container: {container})"
            : null;
    }

    /// <summary>kubelet's format.Pod: <c>name_namespace(uid)</c>.</summary>
    public static string Describe(string name, string @namespace, string uid) => $"{name}_{@namespace}({uid})";
}
