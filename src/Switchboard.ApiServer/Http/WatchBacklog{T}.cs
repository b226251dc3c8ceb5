using System.Runtime.CompilerServices;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// The events of one watch on their way from the store to its client. They are taken from the store as they come, so
/// a client that stops reading never holds up the store's feed, and counted in bytes (the encoded lines the client is
/// sent) against a budget rather than in events: one event may be a few hundred bytes or a megabyte. Past the budget
/// the watch is dropped, as kube-apiserver drops a watcher it cannot deliver to, and the client watches again from the
/// last resourceVersion it got.
/// </summary>
internal sealed class WatchBacklog<T>(long budget)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Channel<(ResourceEvent<T> Event, int Bytes)> _events =
        Channel.CreateUnbounded<(ResourceEvent<T>, int)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private long _bytes;

    /// <summary>
    /// Takes <paramref name="changes"/> until they end, fail (reading then throws the failure) or pass the budget:
    /// then <paramref name="overflowed"/> runs, which ends the watch. Never throws.
    /// </summary>
    public async Task FillAsync(IAsyncEnumerable<ResourceEvent<T>> changes, Action overflowed, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in changes.WithCancellation(cancellationToken))
            {
                // A bookmark of the store's progress is never written as it comes: it costs the client nothing.
                int bytes = change.Type == WatchEventType.Bookmark ? 0 : SharedWatchLines<T>.Line(change.Type, change.Object).Length;
                if (Interlocked.Add(ref _bytes, bytes) > budget)
                {
                    _events.Writer.TryComplete();
                    overflowed();
                    return;
                }

                _events.Writer.TryWrite((change, bytes));
            }

            _events.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _events.Writer.TryComplete(e);
        }
    }

    /// <summary>The events in order; each one's bytes leave the budget once the caller has written it.</summary>
    public async IAsyncEnumerable<ResourceEvent<T>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await _events.Reader.WaitToReadAsync(cancellationToken))
        {
            while (_events.Reader.TryRead(out var item))
            {
                yield return item.Event;
                Interlocked.Add(ref _bytes, -item.Bytes);
            }
        }
    }
}
