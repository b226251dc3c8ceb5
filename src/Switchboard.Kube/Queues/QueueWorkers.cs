using Microsoft.Extensions.Logging;

namespace Switchboard.Kube.Queues;

/// <summary>Runs workers over a <see cref="WorkQueue{T}"/>: success forgets the item's failures, failure requeues it rate-limited.</summary>
public static partial class QueueWorkers
{
    /// <summary>Processes items with <paramref name="workers"/> concurrent workers until the queue is shut down and drained.</summary>
    public static Task RunAsync<T>(WorkQueue<T> queue, int workers, Func<T, CancellationToken, Task> process, ILogger logger, CancellationToken cancellationToken)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(logger);
        return Task.WhenAll(Enumerable.Range(0, Math.Max(1, workers)).Select(_ => Task.Run(() => WorkAsync(queue, process, logger, cancellationToken), CancellationToken.None)));
    }

    private static async Task WorkAsync<T>(WorkQueue<T> queue, Func<T, CancellationToken, Task> process, ILogger logger, CancellationToken cancellationToken)
        where T : notnull
    {
        while (true)
        {
            (bool ok, T item) = await queue.GetAsync(CancellationToken.None);
            if (!ok)
            {
                return;
            }

            try
            {
                await process(item, cancellationToken);
                queue.Forget(item);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the item is simply dropped; a restart re-lists.
            }
            catch (Exception e)
            {
                LogFailed(logger, item.ToString(), queue.Requeues(item), e);
                queue.AddRateLimited(item);
            }
            finally
            {
                queue.Done(item);
            }
        }
    }

    [LoggerMessage(EventId = 7010, Level = LogLevel.Warning, Message = "Sync of {Item} failed (retry {Retries}); requeued with backoff")]
    private static partial void LogFailed(ILogger logger, string? item, int retries, Exception error);
}
