using Switchboard.Storage;

namespace Switchboard.Dns.Tests.Support;

/// <summary>Waits for a condition with a deadline and says what was awaited when it does not come.</summary>
internal static class Eventually
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    /// <summary>Polls a condition of this process that raises no event.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string awaited) =>
        Switchboard.Testing.Eventually.WaitAsync(condition, awaited, Deadline);

    /// <summary>Checks the keys under a prefix, and again after each change the store's watch reports.</summary>
    public static async Task<IReadOnlyList<KeyValue>> StoreAsync(IKeyValueStore store, string prefix, Func<IReadOnlyList<KeyValue>, bool> condition, string awaited)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            while (true)
            {
                RangeResult now = await store.RangeAsync(prefix, default, deadline.Token);
                if (condition(now.Items))
                {
                    return now.Items;
                }

                await using IAsyncEnumerator<WatchEvent> changes = store.WatchAsync(prefix, now.Revision, deadline.Token).GetAsyncEnumerator(deadline.Token);
                await changes.MoveNextAsync();
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the store did not get there within {Deadline}: {awaited}");
        }
    }
}
