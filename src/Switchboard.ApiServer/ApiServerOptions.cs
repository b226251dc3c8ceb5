using System.Net;

namespace Switchboard.ApiServer;

/// <summary>How the API server listens and where it keeps its credentials.</summary>
public sealed record ApiServerOptions
{
    /// <summary>The directory holding the CA, the serving certificate, the admin token and the kubeconfig.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The cluster CA's certificate in <see cref="DataDirectory"/> (PEM), which clients verify the server with.</summary>
    public string CaFile => Path.Combine(DataDirectory, Security.ClusterCredentials.CaCertFile);

    /// <summary>The address to listen on; loopback unless asked otherwise.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The HTTPS port (0: any free port).</summary>
    public int Port { get; init; } = 6443;

    /// <summary>The range ClusterIPs are allocated from.</summary>
    public string ServiceClusterIpRange { get; init; } = "10.96.0.0/16";

    /// <summary>How often the store's history is compacted, up to the revision of one interval before (kube-apiserver's <c>--etcd-compaction-interval</c>).</summary>
    public TimeSpan CompactionInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often a watch that allows bookmarks gets one.</summary>
    public TimeSpan WatchBookmarkInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The first port of the NodePort range (inclusive).</summary>
    public int NodePortRangeStart { get; init; } = 30000;

    /// <summary>The last port of the NodePort range (inclusive).</summary>
    public int NodePortRangeEnd { get; init; } = 32767;

    /// <summary>How often the ClusterIP and NodePort bitmaps are checked against the stored Services (as kube-apiserver: 3 minutes).</summary>
    public TimeSpan AllocationRepairInterval { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Services whose <c>services/NAME:PORT/proxy/…</c> this server answers, by <c>NAMESPACE/NAME:PORT</c>, and the
    /// plain-HTTP base URL it forwards to: a component's operations port it can reach (in <c>up</c>, DNS's
    /// <c>kube-system/kube-dns:metrics</c>, where <c>switchboard trace</c> reads <c>/trace</c>). Others are 503.
    /// </summary>
    public IReadOnlyDictionary<string, Uri> ProxiedServices { get; init; } = new Dictionary<string, Uri>();

    /// <summary>
    /// Read requests served at once (kube-apiserver's --max-requests-inflight, 400); more are 429. Watches, logs, exec,
    /// attach, port-forward and proxy are long-running and counted under <see cref="MaxLongRunningRequests"/> instead,
    /// as kube-apiserver leaves them out of this count. 0: no limit.
    /// </summary>
    public int MaxRequestsInflight { get; init; } = 400;

    /// <summary>Writes (POST, PUT, PATCH, DELETE) served at once (kube-apiserver's --max-mutating-requests-inflight, 200). 0: no limit.</summary>
    public int MaxMutatingRequestsInflight { get; init; } = 200;

    /// <summary>
    /// Long-running requests open at once: watches and the streams relayed to a node. kube-apiserver does not count these
    /// at all, so one client opening watches without end exhausts its memory; here the one past the limit is 429. 0: no limit.
    /// </summary>
    public int MaxLongRunningRequests { get; init; } = 1000;

    /// <summary>
    /// Bytes of events one watch may have waiting for a client that does not read them; past it the watch is dropped
    /// (the client watches again from its last resourceVersion), so a stalled reader holds at most this much.
    /// </summary>
    public long WatchBufferBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>kube-apiserver's --token-auth-file: static bearer tokens of users and groups (<c>token,user,uid,"group1,group2"</c>); null for none.</summary>
    public string? TokenAuthFile { get; init; }

    /// <summary>
    /// The tolerationSeconds of the node.kubernetes.io/not-ready:NoExecute and unreachable:NoExecute tolerations every
    /// new pod gets unless it tolerates those taints already (kube-apiserver's DefaultTolerationSeconds admission,
    /// --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds, 300 each): how long a pod
    /// stays on a node that stopped reporting before the node lifecycle controller evicts it.
    /// </summary>
    public long DefaultTolerationSeconds { get; init; } = 300;

    /// <summary>
    /// kube-apiserver's ServiceAccount admission plugin, on by default: pods get the <c>default</c> account and the
    /// token volume. Off (<c>--disable-admission-plugins=ServiceAccount</c>) where no controller makes accounts, as in
    /// upstream's integration test servers.
    /// </summary>
    public bool ServiceAccountAdmission { get; init; } = true;

    /// <summary>
    /// Serving pods in <c>up</c>: the server also listens inside the node's network namespace, on its gateway address,
    /// and that is the <c>kubernetes</c> Service's endpoint. Null: the endpoint is <see cref="Address"/>.
    /// </summary>
    public InClusterApiOptions? InCluster { get; init; }
}

/// <summary>Where pods reach the API server: the node namespace the agent makes, and the node whose gateway address it listens on.</summary>
public sealed record InClusterApiOptions
{
    public required string NodeNamespace { get; init; }

    public required string NodeName { get; init; }

    /// <summary>How often the namespace and the node's pod CIDR are looked for until they exist.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(10);
}
