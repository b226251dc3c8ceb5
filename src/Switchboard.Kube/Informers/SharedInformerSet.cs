using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Switchboard.Kube.Informers;

/// <summary>
/// The informers the components of one process share: one list, one watch and one cache per collection, however many
/// components follow it. In <c>switchboard up</c> the controllers, DNS, the proxy and the node each followed every
/// Service with a watch and a decoded copy of its own: four copies of 10,000 services, and each change decoded four
/// times. The first component to ask for a collection makes its informer (with its logger, clock and options); the
/// others get the same one, and each runs it (<see cref="Informer{T}.RunAsync"/>). Handlers see a resync (an update
/// whose old and new object are the same) when any sharer asked for one.
/// </summary>
public sealed class SharedInformerSet
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(Type Kind, string Scope), object> _informers = [];

    /// <summary>
    /// The process's informer on the collection <paramref name="source"/> lists and watches; <paramref name="scope"/>
    /// tells apart collections of one kind (a field selector), as the source itself cannot be compared.
    /// </summary>
    public Informer<T> Get<T>(Func<ListWatch<T>> source, ILoggerFactory loggerFactory, TimeProvider time, InformerOptions? options = null, string scope = "")
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Informer<T> informer;
        lock (_lock)
        {
            if (_informers.TryGetValue((typeof(T), scope), out object? existing))
            {
                informer = (Informer<T>)existing;
            }
            else
            {
                informer = new Informer<T>(source(), loggerFactory.CreateLogger<Informer<T>>(), time, options);
                _informers.Add((typeof(T), scope), informer);
                return informer;
            }
        }

        if (options?.ResyncPeriod > TimeSpan.Zero)
        {
            informer.ResyncAtLeastEvery(options.ResyncPeriod);
        }

        return informer;
    }
}
