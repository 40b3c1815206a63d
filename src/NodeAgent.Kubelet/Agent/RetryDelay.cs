namespace NodeAgent.Kubelet.Agent;

/// <summary>The exponential backoff of the API-server loops (node status, Lease, status writer): the first retry
/// after <c>initial</c>, doubling with each failure in a row, never longer than <c>max</c>.</summary>
internal static class RetryDelay
{
    public static TimeSpan After(int failures, TimeSpan initial, TimeSpan max) =>
        TimeSpan.FromMilliseconds(Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 30))));
}
