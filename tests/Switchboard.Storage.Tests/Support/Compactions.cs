using Microsoft.Extensions.Time.Testing;
using Switchboard.Testing;

namespace Switchboard.Storage.Tests.Support;

/// <summary>Drives a store's own compactor, whose timer runs on a fake clock.</summary>
internal static class Compactions
{
    /// <summary>
    /// Moves the clock on an interval at a time until the store has compacted to <paramref name="revision"/>. A fixed
    /// number of moves is not enough: a tick that comes while the compactor is still busy with the last one is merged
    /// into it (PeriodicTimer), and compaction raises no event, so its result is polled.
    /// </summary>
    public static Task AdvanceUntilCompactedAsync(IKeyValueStore store, FakeTimeProvider clock, TimeSpan interval, long revision) =>
        Eventually.WaitAsync(
            async () =>
            {
                if (await store.GetCompactedRevisionAsync() == revision)
                {
                    return true;
                }

                clock.Advance(interval);
                return false;
            },
            $"automatic compaction to revision {revision}");
}
