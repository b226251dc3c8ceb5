using System.Diagnostics;
using System.Threading.Channels;

namespace Switchboard.Storage.Tests.Conformance;

/// <summary>
/// Consumes a store watch (with progress events if given an interval) in the background so a test can await the next
/// events with a deadline and see how the watch ended.
/// </summary>
internal sealed class WatchCollector : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly Channel<WatchEvent> _events = Channel.CreateUnbounded<WatchEvent>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;

    public WatchCollector(IKeyValueStore store, string prefix, long afterRevision, TimeSpan? progressInterval = null)
    {
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in store.WatchAsync(prefix, afterRevision, progressInterval ?? Timeout.InfiniteTimeSpan, _stop.Token))
                {
                    await _events.Writer.WriteAsync(e);
                }

                _events.Writer.TryComplete();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                _events.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _events.Writer.TryComplete(e);
            }
        });
    }

    /// <summary>The next <paramref name="count"/> events; fails the test if they do not come in time.</summary>
    public async Task<List<WatchEvent>> TakeAsync(int count, string awaited)
    {
        var taken = new List<WatchEvent>(count);
        using var timeout = new CancellationTokenSource(Deadline);
        try
        {
            while (taken.Count < count)
            {
                taken.Add(await _events.Reader.ReadAsync(timeout.Token));
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"waited {Deadline.TotalSeconds}s for {awaited}: got {taken.Count} of {count} events");
        }

        return taken;
    }

    /// <summary>The events up to and including the first that <paramref name="last"/> accepts; fails the test if it does not come in time.</summary>
    public async Task<List<WatchEvent>> TakeUntilAsync(Func<WatchEvent, bool> last, string awaited)
    {
        var taken = new List<WatchEvent>();
        using var timeout = new CancellationTokenSource(Deadline);
        try
        {
            while (taken.Count == 0 || !last(taken[^1]))
            {
                taken.Add(await _events.Reader.ReadAsync(timeout.Token));
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"waited {Deadline.TotalSeconds}s for {awaited}: got {taken.Count} events before it");
        }

        return taken;
    }

    /// <summary>The exception that ended the watch; fails the test if it keeps running.</summary>
    public async Task<Exception> FailureAsync(string awaited)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        try
        {
            while (await _events.Reader.WaitToReadAsync(timeout.Token))
            {
                _events.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"waited {Deadline.TotalSeconds}s for {awaited}");
        }
        catch (Exception e)
        {
            return e;
        }

        Assert.Fail($"the watch ended without an error while waiting for {awaited}");
        throw new UnreachableException();
    }

    /// <summary>Events already received, without waiting.</summary>
    public List<WatchEvent> Drain()
    {
        var drained = new List<WatchEvent>();
        while (_events.Reader.TryRead(out var e))
        {
            drained.Add(e);
        }

        return drained;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pump;
        _stop.Dispose();
    }
}
