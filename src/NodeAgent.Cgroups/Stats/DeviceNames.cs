using System.Globalization;

namespace NodeAgent.Cgroups.Stats;

/// <summary>Block device numbers to names (<c>8:0</c> → <c>/dev/sda</c>) from <c>/sys/dev/block/M:m/uevent</c>, cached.</summary>
internal sealed class DeviceNames
{
    private readonly Dictionary<(uint, uint), string> _names = [];

    public string Name(uint major, uint minor)
    {
        if (_names.TryGetValue((major, minor), out var name))
        {
            return name;
        }

        var number = string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}");
        name = number;
        try
        {
            foreach (var line in File.ReadLines($"/sys/dev/block/{number}/uevent"))
            {
                if (line.StartsWith("DEVNAME=", StringComparison.Ordinal) && line.Length > 8)
                {
                    name = "/dev/" + line[8..];
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not a named block device: keep the number.
        }

        return _names[(major, minor)] = name;
    }
}
