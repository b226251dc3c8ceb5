namespace Switchboard.Storage.Sqlite;

/// <summary>Fans committed events out to the live watchers, in revision order.</summary>
internal sealed class WatchHub
{
    private readonly Lock _lock = new();

    // Copy-on-write so the writer loop publishes without taking the lock.
    private WatchSubscription[] _subscriptions = [];
    private bool _closed;
    private long _published;

    public int Count => Volatile.Read(ref _subscriptions).Length;

    public WatchSubscription Subscribe(string prefix, int capacity)
    {
        var subscription = new WatchSubscription(prefix, capacity);
        lock (_lock)
        {
            if (_closed)
            {
                subscription.Close(WatchCloseReason.StoreClosed);
                return subscription;
            }

            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    public void Unsubscribe(WatchSubscription subscription)
    {
        lock (_lock)
        {
            _subscriptions = Array.FindAll(_subscriptions, s => s != subscription);
        }

        subscription.Close(WatchCloseReason.None);
    }

    /// <summary>
    /// The revision up to which every committed event has been offered to the watchers: one that has taken every event
    /// from its feed after reading this has seen every change of its keys up to it.
    /// </summary>
    public long Published => Volatile.Read(ref _published);

    /// <summary>Records that the events up to <paramref name="revision"/> have all been offered (after <see cref="Publish"/>).</summary>
    public void Passed(long revision) => Volatile.Write(ref _published, revision);

    /// <summary>Offers the events to every matching watcher; returns how many watchers overflowed.</summary>
    public int Publish(List<WatchEvent> events)
    {
        int overflowed = 0;
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            foreach (var watchEvent in events)
            {
                if (subscription.Matches(watchEvent.Current.Key) && !subscription.Offer(watchEvent))
                {
                    overflowed++;
                    break;
                }
            }
        }

        return overflowed;
    }

    public void CloseAll()
    {
        WatchSubscription[] subscriptions;
        lock (_lock)
        {
            _closed = true;
            subscriptions = _subscriptions;
            _subscriptions = [];
        }

        foreach (var subscription in subscriptions)
        {
            subscription.Close(WatchCloseReason.StoreClosed);
        }
    }
}
