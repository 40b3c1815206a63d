namespace NodeAgent.Registry.Auth;

/// <summary>Credentials for one registry: a username and password, or an identity (refresh) token.</summary>
public sealed record RegistryCredentials(string Username, string Password, string? IdentityToken = null)
{
    /// <summary>Parses <c>user:password</c> (the CLI's <c>--creds</c>); the password may contain ':'.</summary>
    public static RegistryCredentials ParseUserPassword(string value, string what)
    {
        var colon = value.IndexOf(':');
        if (colon <= 0)
        {
            throw new ArgumentException($"{what}: expected user:password");
        }
        return new RegistryCredentials(value[..colon], value[(colon + 1)..]);
    }

    public override string ToString() => $"RegistryCredentials {{ Username = {Username} }}";
}
