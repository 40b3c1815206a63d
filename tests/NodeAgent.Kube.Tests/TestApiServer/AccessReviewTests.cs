using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Tests.Support;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>
/// SubjectAccessReview, SelfSubjectAccessReview (kubectl auth can-i, also with --as) and SelfSubjectReview
/// (kubectl auth whoami), judged by the same authorizer as requests.
/// </summary>
public sealed class AccessReviewTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>, IDisposable
{
    private const string AsNode = "--as system:node:n1 --as-group system:nodes";
    private readonly KubeApiConnection _admin = new(KubeConfigLoader.LoadFile(fixture.Server.AdminKubeconfig));
    private readonly KubeApiConnection _n1 = new(KubeConfigLoader.LoadFile(fixture.Server.NodeKubeconfig("n1")));

    private string Admin => fixture.Server.AdminKubeconfig;

    public void Dispose()
    {
        _admin.Dispose();
        _n1.Dispose();
    }

    private async Task<string> CanI(string kubeconfig, string args)
    {
        var result = await Kubectl.RunAsync(kubeconfig, "auth can-i " + args);
        // kubectl exits 0 for yes and 1 for no; anything else is an error.
        Assert.True(result.ExitCode is 0 or 1, result.ToString());
        // "no" may carry the authorizer's reason: "no - no relationship found between node 'n1' and this object".
        var answer = result.Stdout.Trim().Split(' ')[0];
        Assert.Equal(result.ExitCode == 0 ? "yes" : "no", answer);
        return answer;
    }

    [Fact]
    public async Task TheKubeProxyCredentialGetsWhatSystemNodeProxierGrants()
    {
        // The default binding system:node-proxier → user system:kube-proxy: services, endpoints and EndpointSlices
        // to list and watch, nodes to read, events to write; nothing else.
        var proxy = fixture.Server.KubeProxyKubeconfig;
        Assert.Equal("yes", await CanI(proxy, "list endpointslices.discovery.k8s.io --all-namespaces"));
        Assert.Equal("yes", await CanI(proxy, "watch services --all-namespaces"));
        Assert.Equal("yes", await CanI(proxy, "get nodes"));
        Assert.Equal("yes", await CanI(proxy, "create events -n default"));
        Assert.Equal("no", await CanI(proxy, "get pods -n default"));
        Assert.Equal("no", await CanI(proxy, "create endpointslices.discovery.k8s.io -n default"));
        Assert.Equal("no", await CanI(proxy, "get secrets -n default"));
        Assert.Equal("no", await CanI(proxy, "patch nodes --subresource=status"));
        var who = await Kubectl.RunAsync(proxy, "auth whoami -o jsonpath={.status.userInfo.username}");
        Assert.Equal("system:kube-proxy", who.Stdout.Trim());
    }

    [Fact]
    public async Task KubectlAuthCanIAnswersForTheCallerAndForAnImpersonatedNode()
    {
        Assert.Equal("yes", await CanI(Admin, "get pods"));
        Assert.Equal("yes", await CanI(Admin, "delete nodes --all-namespaces"));
        Assert.Equal("yes", await CanI(Admin, "get pods " + AsNode));
        Assert.Equal("yes", await CanI(Admin, "create events -n default " + AsNode));
        Assert.Equal("no", await CanI(Admin, "delete nodes " + AsNode));
        Assert.Equal("no", await CanI(Admin, "get secrets -n default " + AsNode));
        Assert.Contains("no relationship found between node 'n1' and this object", (await Kubectl.RunAsync(Admin, "auth can-i get secrets/x -n default " + AsNode)).Stdout);
        Assert.Equal("yes", await CanI(Admin, "get leases/n1 -n kube-node-lease " + AsNode));
        Assert.Equal("no", await CanI(Admin, "get leases/n2 -n kube-node-lease " + AsNode));
        Assert.Equal("no", await CanI(Admin, "get nodes --subresource=proxy " + AsNode));
        Assert.Equal("no", await CanI(Admin, "get pods --as someone"));

        // The node's own credential: the same answers, and nodes may create SubjectAccessReviews (NodeRules).
        var node = fixture.Server.NodeKubeconfig("n1");
        Assert.Equal("yes", await CanI(node, "patch nodes --subresource=status"));
        Assert.Equal("no", await CanI(node, "create configmaps -n default"));
        Assert.Equal("yes", await CanI(node, "create subjectaccessreviews.authorization.k8s.io"));

        // A node may not impersonate.
        var impersonate = await Kubectl.RunAsync(node, "auth can-i get pods --as admin");
        Assert.NotEqual(0, impersonate.ExitCode);
        Assert.Contains("users \"admin\" is forbidden: User \"system:node:n1\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope", impersonate.Stderr);
        var request = await Kubectl.RunAsync(node, "get pods --as admin");
        Assert.Contains("cannot impersonate", request.Stderr);
    }

    [Fact]
    public async Task ImpersonationAppliesToRequestsToo()
    {
        var denied = await Kubectl.RunAsync(Admin, "get configmaps -n default " + AsNode);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("User \"system:node:n1\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"", denied.Stderr);
        var allowed = await Kubectl.RunAsync(Admin, "get nodes " + AsNode);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
    }

    [Fact]
    public async Task KubectlAuthWhoamiNamesTheCaller()
    {
        var admin = await Kubectl.RunAsync(Admin, "auth whoami -o json");
        Assert.True(admin.ExitCode == 0, admin.ToString());
        var review = System.Text.Json.Nodes.JsonNode.Parse(admin.Stdout)!;
        Assert.Equal("SelfSubjectReview", review["kind"]!.ToString());
        Assert.Equal("admin", review["status"]!["userInfo"]!["username"]!.ToString());
        var node = await Kubectl.RunAsync(fixture.Server.NodeKubeconfig("n1"), "auth whoami");
        Assert.True(node.ExitCode == 0, node.ToString());
        Assert.Matches(@"Username\s+system:node:n1", node.Stdout);
        Assert.Matches(@"Groups\s+\[system:nodes system:authenticated\]", node.Stdout);
        var asNode = await Kubectl.RunAsync(Admin, "auth whoami " + AsNode);
        Assert.Matches(@"Username\s+system:node:n1", asNode.Stdout);
    }

    [Theory]
    [InlineData("proxy")]
    [InlineData("stats")]
    [InlineData("metrics")]
    [InlineData("log")]
    public async Task KubeletApiSubresourcesAreForAdminsOnly(string subresource)
    {
        // What the kubelet API (issue #14) asks through the client layer on behalf of its callers.
        var reviews = new ReviewClient(_n1);
        var attributes = new V1ResourceAttributes { Verb = "get", Resource = "nodes", Subresource = subresource, Name = "n1" };
        Assert.True(await reviews.IsAllowedAsync("admin", ["system:masters", "system:authenticated"], attributes));
        Assert.False(await reviews.IsAllowedAsync("metrics-reader", ["system:authenticated"], attributes));
        Assert.False(await reviews.IsAllowedAsync("system:node:n1", ["system:nodes", "system:authenticated"], attributes));
        Assert.False(await reviews.IsAllowedAsync("system:serviceaccount:kube-system:metrics", ["system:serviceaccounts", "system:authenticated"], attributes));
    }

    [Fact]
    public async Task ASubjectAccessReviewGivesTheNodeAuthorizersReasonAndIsValidated()
    {
        var reviews = new ReviewClient(_admin);
        var answer = await reviews.ReviewAccessAsync(new V1SubjectAccessReview
        {
            Spec = new V1SubjectAccessReviewSpec
            {
                User = "system:node:n1",
                Groups = ["system:nodes"],
                ResourceAttributes = new V1ResourceAttributes { Verb = "get", Resource = "secrets", NamespaceProperty = "default", Name = "s" },
            },
        });
        Assert.False(answer.Status.Allowed);
        Assert.Equal("no relationship found between node 'n1' and this object", answer.Status.Reason);

        var nonResource = await reviews.ReviewAccessAsync(new V1SubjectAccessReview
        {
            Spec = new V1SubjectAccessReviewSpec { User = "u", Groups = ["system:authenticated"], NonResourceAttributes = new V1NonResourceAttributes { Verb = "get", Path = "/healthz" } },
        });
        Assert.True(nonResource.Status.Allowed);

        var invalid = await Assert.ThrowsAsync<ApiException>(() => reviews.ReviewAccessAsync(new V1SubjectAccessReview
        {
            Spec = new V1SubjectAccessReviewSpec { ResourceAttributes = new V1ResourceAttributes { Verb = "get", Resource = "pods" } },
        }));
        Assert.Equal(422, (int)invalid.StatusCode);
        Assert.Contains("at least one of user or group must be specified", invalid.Message);

        // Someone without rights may not ask about others.
        var anyone = new V1SubjectAccessReview { Spec = new V1SubjectAccessReviewSpec { User = "x", ResourceAttributes = new V1ResourceAttributes { Verb = "get", Resource = "pods" } } };
        var created = await Kubectl.RunAsync(Admin, "create serviceaccount reviewer -n default");
        Assert.True(created.ExitCode == 0, created.ToString());
        var token = await Kubectl.RunAsync(Admin, "create token reviewer -n default");
        Assert.True(token.ExitCode == 0, token.ToString());
        var saConfig = KubeConfigLoader.LoadFile(Admin) with { BearerToken = token.Stdout.Trim() };
        using var sa = new KubeApiConnection(saConfig);
        var forbidden = await Assert.ThrowsAsync<ApiException>(() => new ReviewClient(sa).ReviewAccessAsync(anyone));
        Assert.Equal(403, (int)forbidden.StatusCode);
    }
}
