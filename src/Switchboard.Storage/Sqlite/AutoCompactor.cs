using Microsoft.Extensions.Logging;

namespace Switchboard.Storage.Sqlite;

/// <summary>
/// Compacts like kube-apiserver's compactor: at every tick, to the revision that was current at the tick
/// before, so that one interval of history is always kept for watchers to resume from.
/// </summary>
internal sealed class AutoCompactor : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private readonly Func<long> _currentRevision;
    private readonly Func<long> _compactedRevision;
    private readonly Func<long, Task> _compact;
    private readonly ILogger _logger;
    private long _revisionAtLastTick;
    private Task _running = Task.CompletedTask;

    public AutoCompactor(TimeProvider time, TimeSpan interval, Func<long> currentRevision, Func<long> compactedRevision, Func<long, Task> compact, ILogger logger)
    {
        _currentRevision = currentRevision;
        _compactedRevision = compactedRevision;
        _compact = compact;
        _logger = logger;
        _revisionAtLastTick = currentRevision();
        _timer = time.CreateTimer(_ => Tick(), null, interval, interval);
    }

    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync();
        Task running;
        lock (_lock)
        {
            running = _running;
        }

        await running;
    }

    private void Tick()
    {
        lock (_lock)
        {
            long target = _revisionAtLastTick;
            _revisionAtLastTick = _currentRevision();
            if (_running.IsCompleted && target > _compactedRevision())
            {
                _running = CompactAsync(target);
            }
        }
    }

    private async Task CompactAsync(long target)
    {
        try
        {
            await _compact(target);
        }
        catch (StorageException e)
        {
            _logger.AutoCompactionFailed(target, e);
        }
    }
}
