using NodeAgent.Linux;

namespace NodeAgent.Runtime.Containers;

/// <summary>
/// A container's capability set, as containerd's CRI plugin computes it: privileged containers get every capability
/// the runtime itself holds (containerd's WithAllCurrentCapabilities over the daemon's own set) and never more;
/// otherwise Docker's default set, then <c>add: [ALL]</c> (the runtime's set), <c>drop: [ALL]</c>, the named
/// additions and the named drops, in that order. A named addition the kernel does not know, or one the runtime does
/// not hold (so that no container could get it from this node), is an error naming it rather than a capset failure
/// at start.
/// </summary>
public static class ContainerCapabilities
{
    /// <summary>The capabilities of this process that containers may get (read once).</summary>
    public static ulong Available => LazyAvailable.Value;

    private static readonly Lazy<ulong> LazyAvailable = new(Capabilities.CurrentMask);

    /// <exception cref="ArgumentException">An unknown capability or one outside <paramref name="available"/> was added; the message names it.</exception>
    public static IReadOnlyList<string> Compute(bool privileged, IReadOnlyList<string> add, IReadOnlyList<string> drop, ulong available)
    {
        if (privileged)
        {
            return Capabilities.NamesOf(available);
        }

        ulong set = 0;
        foreach (var name in Capabilities.DefaultSet)
        {
            set |= Bit(name);
        }

        if (add.Any(IsAll))
        {
            set = available;
        }

        if (drop.Any(IsAll))
        {
            set = 0;
        }

        foreach (var name in add.Where(n => !IsAll(n)))
        {
            var cap = Capabilities.Parse(name);
            if (cap < 0)
            {
                throw new ArgumentException($"unknown capability \"{name}\" in capabilities.add");
            }

            if ((available & (1UL << cap)) == 0)
            {
                throw new ArgumentException(
                    $"capability \"{name}\" in capabilities.add is not in the node agent's own capability set (CapEff/CapBnd), so no container on this node can have it");
            }

            set |= 1UL << cap;
        }

        foreach (var name in drop.Where(n => !IsAll(n)))
        {
            // As containerd: dropping a capability the set does not hold (or an unknown name) changes nothing.
            var cap = Capabilities.Parse(name);
            if (cap >= 0)
            {
                set &= ~(1UL << cap);
            }
        }

        // Docker's defaults are all within any root daemon's set; a trimmed daemon set trims them too.
        return Capabilities.NamesOf(set & available);
    }

    private static bool IsAll(string name) => name.Trim().Equals("ALL", StringComparison.OrdinalIgnoreCase);

    private static ulong Bit(string name) => 1UL << Capabilities.Parse(name);
}
