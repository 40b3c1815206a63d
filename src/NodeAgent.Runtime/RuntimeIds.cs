namespace NodeAgent.Runtime;

/// <summary>Runtime object IDs: 64 lowercase hex digits, as containerd makes them.</summary>
public static class RuntimeIds
{
    public static bool IsValid(string id) => id.Length == 64 && id.All(char.IsAsciiHexDigitLower);
}
