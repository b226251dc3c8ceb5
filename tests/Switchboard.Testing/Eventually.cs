using Switchboard.Storage;

namespace Switchboard.Testing;

/// <summary>Waits for a condition that an asynchronous system reaches eventually, failing with what was awaited.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    // Polls quickly first (most conditions hold within milliseconds), then backs off so a long wait costs little CPU.
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(50);

    public static Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        WaitAsync(() => Task.FromResult(condition()), what, timeout);

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var poll = FirstPoll;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }

                last = null;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                last = e;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {(timeout ?? DefaultTimeout).TotalSeconds}s waiting for: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
            }

            await Task.Delay(poll);
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, MaxPoll.Ticks));
        }
    }

    /// <summary>
    /// Waits until the keys under <paramref name="prefix"/> satisfy <paramref name="condition"/>, checking again
    /// after each change the store's watch reports rather than polling; returns the keys that satisfied it.
    /// </summary>
    public static async Task<IReadOnlyList<KeyValue>> StoreAsync(IKeyValueStore store, string prefix, Func<IReadOnlyList<KeyValue>, bool> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(condition);
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
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
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"timed out after {(timeout ?? DefaultTimeout).TotalSeconds}s waiting for the store: {what}");
        }
    }
}
