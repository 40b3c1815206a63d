using k8s;
using k8s.Models;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kube.Api;

/// <summary>
/// client-go's <c>retry.RetryOnConflict</c> for read-modify-write: read the current object, apply the change, write it
/// with the resourceVersion read; on 409 Conflict read again and repeat (client-go's DefaultRetry: 5 steps from 10 ms,
/// factor 1, jitter 0.1).
/// </summary>
public static class ConflictRetry
{
    public const int DefaultAttempts = 5;

    /// <summary>Reads with <paramref name="get"/>, changes with <paramref name="mutate"/> (return false to write nothing), writes with <paramref name="update"/>.</summary>
    public static async Task<T> UpdateAsync<T>(Func<CancellationToken, Task<T>> get, Func<T, bool> mutate, Func<T, CancellationToken, Task<T>> update,
        CancellationToken cancellationToken = default, int attempts = DefaultAttempts, TimeProvider? time = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        for (var attempt = 1; ; attempt++)
        {
            var current = await get(cancellationToken).ConfigureAwait(false);
            if (!mutate(current))
            {
                return current;
            }
            try
            {
                return await update(current, cancellationToken).ConfigureAwait(false);
            }
            catch (ApiException e) when (e.IsConflict && attempt < attempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 * (1 + Random.Shared.NextDouble() * 0.1)), time ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
