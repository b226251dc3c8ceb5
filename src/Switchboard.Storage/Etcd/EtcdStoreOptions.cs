namespace Switchboard.Storage.Etcd;

/// <summary>How <see cref="EtcdKeyValueStore"/> talks to etcd.</summary>
public sealed record EtcdStoreOptions
{
    /// <summary>
    /// How often history is compacted, each time up to the revision that was current one interval before
    /// (kube-apiserver's compactor; its default is 5 minutes). Null or zero: this client never compacts.
    /// </summary>
    public TimeSpan? CompactionInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one request may take, failover to another member included, before it fails as unavailable.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a broken watch keeps trying to reach a member before it fails as unavailable.</summary>
    public TimeSpan WatchReconnectTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
