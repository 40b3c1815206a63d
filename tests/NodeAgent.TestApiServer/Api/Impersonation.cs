using Microsoft.AspNetCore.Http;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// User impersonation (<c>Impersonate-User</c>, <c>Impersonate-Group</c> headers; kubectl <c>--as</c>,
/// <c>--as-group</c>): the requester needs the <c>impersonate</c> verb on each users/groups/serviceaccounts name it
/// takes on (only admins have it here); the request then runs as that user, with <c>system:authenticated</c> added as
/// the real server adds it (and the service-account groups for a service account).
/// </summary>
public static class Impersonation
{
    public static UserInfo Apply(IHeaderDictionary headers, UserInfo requester, Authorizer authorizer)
    {
        var name = headers["Impersonate-User"].ToString();
        var groups = headers["Impersonate-Group"].Where(g => !string.IsNullOrEmpty(g)).Select(g => g!).ToList();
        var other = headers.Keys.Any(k => k.StartsWith("Impersonate-Extra-", StringComparison.OrdinalIgnoreCase) || k.Equals("Impersonate-Uid", StringComparison.OrdinalIgnoreCase));
        if (name.Length == 0)
        {
            if (groups.Count > 0 || other)
            {
                throw ApiError.BadRequest("impersonating groups, a uid or extra fields needs Impersonate-User as well");
            }
            return requester;
        }
        if (other)
        {
            throw ApiError.BadRequest("the test server does not impersonate uids or extra fields");
        }
        const string saPrefix = "system:serviceaccount:";
        var saParts = name.StartsWith(saPrefix, StringComparison.Ordinal) ? name[saPrefix.Length..].Split(':') : null;
        if (saParts is { Length: 2 })
        {
            Check(requester, authorizer, new AccessAttributes("impersonate", "", "serviceaccounts", null, saParts[0], saParts[1]));
        }
        else
        {
            Check(requester, authorizer, new AccessAttributes("impersonate", "", "users", null, null, name));
        }
        foreach (var g in groups)
        {
            Check(requester, authorizer, new AccessAttributes("impersonate", "", "groups", null, null, g));
        }
        if (saParts is { Length: 2 })
        {
            groups.AddRange(["system:serviceaccounts", $"system:serviceaccounts:{saParts[0]}"]);
        }
        if (name != UserInfo.Anonymous.Name && !groups.Contains("system:authenticated"))
        {
            groups.Add("system:authenticated");
        }
        return new UserInfo(name, groups.Distinct().ToList());
    }

    private static void Check(UserInfo requester, Authorizer authorizer, AccessAttributes a)
    {
        if (!authorizer.Decide(requester, a).Allowed)
        {
            var scope = a.Namespace is null ? "at the cluster scope" : $"in the namespace \"{a.Namespace}\"";
            throw new ApiError(403, "Forbidden", $"{a.Resource} \"{a.Name}\" is forbidden: User \"{requester.Name}\" cannot impersonate resource \"{a.Resource}\" in API group \"\" {scope}", a.Name, a.Resource);
        }
    }
}
