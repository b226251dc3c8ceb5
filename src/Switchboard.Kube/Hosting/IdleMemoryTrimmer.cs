using System.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Switchboard.Kube.Hosting;

/// <summary>
/// Gives the memory of a burst back to the system once the burst is over. The GC grows its heap to what a burst of
/// work needs (10,000 services created at once: request bodies, watch events waiting for slow readers, decoded
/// copies) and keeps it committed afterwards, since only allocations trigger collections and an idle process
/// allocates little: <c>switchboard up</c> stayed at its peak RSS. Every <see cref="Period"/> this looks at the
/// allocations since its last look; after at least a burst's worth (<see cref="BurstBytes"/>) since the last trim, the first quiet period
/// (under <see cref="QuietBytes"/>) runs one aggressive full collection, which compacts and decommits what is free,
/// as Go's scavenger returns a kube-apiserver's idle memory. A process that allocates steadily but slowly would look
/// like a string of bursts: one trim per <see cref="MinInterval"/> bounds what such blocking collections cost.
/// The start-up is a burst whatever its size (every component builds its state, and most of what it allocates on
/// the way is garbage once it serves): the first quiet period trims too, or an idle <c>up</c> keeps that heap. That
/// one trim does not hold back the next burst's by <see cref="MinInterval"/>: Services created right after the start
/// would otherwise wait a minute for theirs.
/// </summary>
public sealed partial class IdleMemoryTrimmer(ILogger<IdleMemoryTrimmer> logger, TimeProvider time, long burstBytes = IdleMemoryTrimmer.BurstBytes) : BackgroundService
{
    /// <summary>How often allocations are looked at.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    /// <summary>Allocations since the last trim that make a burst worth giving back, unless told otherwise.</summary>
    public const long BurstBytes = 64L * 1024 * 1024;

    /// <summary>Allocations in one period under which the process counts as quiet.</summary>
    public const long QuietBytes = 4L * 1024 * 1024;

    /// <summary>The least time between two trims.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMinutes(1);

    private long? _trimmedAt;
    private bool _startUpTrimmed;
    private long _lastTrim = GC.GetTotalAllocatedBytes();
    private long _lastLook = GC.GetTotalAllocatedBytes();

    /// <summary>Looks once: trims when a burst has ended since the last trim; returns whether it did.</summary>
    public bool Look()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        bool quiet = allocated - _lastLook < QuietBytes;
        _lastLook = allocated;
        bool burstOver = !_startUpTrimmed || allocated - _lastTrim >= burstBytes;
        if (!quiet || !burstOver || (_trimmedAt is { } at && time.GetElapsedTime(at) < MinInterval))
        {
            return false;
        }

        long before = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long after = GC.GetGCMemoryInfo().TotalCommittedBytes;
        _lastTrim = _lastLook = GC.GetTotalAllocatedBytes();
        _trimmedAt = _startUpTrimmed ? time.GetTimestamp() : null;
        _startUpTrimmed = true;
        LogTrimmed(logger, (before - after) / (1024 * 1024), after / (1024 * 1024));
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Look();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    [LoggerMessage(EventId = 7020, Level = LogLevel.Information, Message = "A burst of work is over: the GC heap gave {Freed} MB back, {Committed} MB stay committed")]
    private static partial void LogTrimmed(ILogger logger, long freed, long committed);
}
