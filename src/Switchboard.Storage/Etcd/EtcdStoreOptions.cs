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

    /// <summary>PEM file of the CA the members' serving certificates chain to, for https endpoints (kube-apiserver's <c>--etcd-cafile</c>); null: the system's roots.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM file of the client certificate presented to the members (kube-apiserver's <c>--etcd-certfile</c>), with <see cref="KeyFile"/>.</summary>
    public string? CertificateFile { get; init; }

    /// <summary>PEM file of <see cref="CertificateFile"/>'s private key (kube-apiserver's <c>--etcd-keyfile</c>).</summary>
    public string? KeyFile { get; init; }
}
