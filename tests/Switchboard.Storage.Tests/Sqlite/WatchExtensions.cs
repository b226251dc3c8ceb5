namespace Switchboard.Storage.Tests.Sqlite;

internal static class WatchExtensions
{
    /// <summary>Reads <paramref name="count"/> events from the watch, failing if they do not come within a generous deadline.</summary>
    public static async Task<List<WatchEvent>> TakeAsync(this IAsyncEnumerable<WatchEvent> watch, int count, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(30));
        var events = new List<WatchEvent>(count);
        try
        {
            await foreach (var watchEvent in watch.WithCancellation(timeout.Token))
            {
                events.Add(watchEvent);
                if (events.Count == count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"awaited {count} watch events, got {events.Count} before the deadline");
        }

        return events;
    }
}
