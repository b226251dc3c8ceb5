using k8s;
using k8s.Models;

namespace Switchboard.Kube.Informers;

/// <summary>A consistent snapshot of a collection and the resourceVersion to watch from.</summary>
public sealed record ListPage<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <summary>
/// How an informer reaches one collection: a full list, and a watch from a resourceVersion (with a server-side
/// timeout in seconds, and a callback for errors the stream reports in-band such as 410 Gone).
/// </summary>
public sealed class ListWatch<T>
    where T : IKubernetesObject<V1ObjectMeta>
{
    public ListWatch(
        Func<CancellationToken, Task<ListPage<T>>> list,
        Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> watch)
    {
        List = list;
        Watch = watch;
    }

    public Func<CancellationToken, Task<ListPage<T>>> List { get; }

    public Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> Watch { get; }
}
