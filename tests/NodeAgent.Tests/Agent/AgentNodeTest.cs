using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>A daemon test's node (<see cref="AgentNode"/>), made before each test unless privileged tests are
/// skipped, and removed after it, failed or not.</summary>
public abstract class AgentNodeTest : IAsyncLifetime
{
    protected AgentNode Node { get; private set; } = null!;

    public virtual Task InitializeAsync()
    {
        if (!Privileged.SkipRequested)
        {
            Node = new AgentNode();
        }

        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }
    }
}
