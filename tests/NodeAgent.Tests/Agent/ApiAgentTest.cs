namespace NodeAgent.Tests.Agent;

/// <summary>A daemon test's node and the test API server it joins (<see cref="ApiCluster"/>), both removed after the test.</summary>
public abstract class ApiAgentTest : AgentNodeTest
{
    protected ApiCluster Cluster { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (Node is not null)
        {
            Cluster = await ApiCluster.StartAsync();
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}
