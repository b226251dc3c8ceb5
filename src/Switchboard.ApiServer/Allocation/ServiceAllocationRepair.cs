using Microsoft.Extensions.Logging;

namespace Switchboard.ApiServer.Allocation;

/// <summary>
/// Runs the ClusterIP and NodePort repairs once at start-up, before the server takes writes, and then every
/// interval (kube-apiserver: 3 minutes), on the injected clock.
/// </summary>
internal sealed partial class ServiceAllocationRepair(IReadOnlyList<RangeRepair> ranges, TimeProvider time, ILogger<ServiceAllocationRepair> logger)
{
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        foreach (var range in ranges)
        {
            await range.RunOnceAsync(cancellationToken);
        }
    }

    /// <summary>Repairs every <paramref name="interval"/> until <paramref name="stopping"/>; the timer starts before this returns.</summary>
    public Task RunPeriodicallyAsync(TimeSpan interval, CancellationToken stopping) =>
        LoopAsync(new PeriodicTimer(interval, time), stopping);

    private async Task LoopAsync(PeriodicTimer timer, CancellationToken stopping)
    {
        using (timer)
        {
            try
            {
                while (await timer.WaitForNextTickAsync(stopping))
                {
                    try
                    {
                        await RunOnceAsync(stopping);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        LogFailed(logger, e);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The server is stopping.
            }
        }
    }

    [LoggerMessage(EventId = 1030, Level = LogLevel.Error, Message = "Service allocation repair failed; trying again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
