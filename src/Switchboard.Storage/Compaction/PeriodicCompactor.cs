using Microsoft.Extensions.Logging;

namespace Switchboard.Storage.Compaction;

/// <summary>
/// Compacts a store the way kube-apiserver compacts etcd (apiserver storage/etcd3/compact.go): at every tick,
/// up to the revision that was current at the tick before, so a watcher always has at least one interval of
/// history to resume from. The first tick only records the revision; a target compacted already is skipped.
/// </summary>
internal sealed partial class PeriodicCompactor : IAsyncDisposable
{
    private readonly IKeyValueStore _store;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _previousRevision;

    public PeriodicCompactor(IKeyValueStore store, TimeSpan interval, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _store = store;
        _interval = interval;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public void Start() => _loop = RunAsync(_stop.Token);

    /// <summary>
    /// One tick: compacts to the revision recorded at the previous tick, if any, and records the current one.
    /// Returns the revision compacted to, or 0.
    /// </summary>
    internal async Task<long> TickAsync(CancellationToken cancellationToken)
    {
        long current = await _store.GetRevisionAsync(cancellationToken);
        long target = _previousRevision;
        _previousRevision = current;
        // Nothing was written for a whole interval: the target is already compacted, which is no failure.
        if (target == 0 || target <= await _store.GetCompactedRevisionAsync(cancellationToken))
        {
            return 0;
        }

        await _store.CompactAsync(target, cancellationToken);
        LogCompacted(_logger, target);
        return target;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await TickAsync(cancellationToken);
                }
                catch (StorageException e)
                {
                    // The next tick tries again; history only grows a little meanwhile.
                    LogCompactionFailed(_logger, e.Error, e);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Compacted the store's history up to revision {Revision}")]
    private static partial void LogCompacted(ILogger logger, long revision);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "Compaction failed ({Error}); trying again at the next interval")]
    private static partial void LogCompactionFailed(ILogger logger, StorageError error, Exception exception);
}
