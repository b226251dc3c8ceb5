using System.Net;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Queues;
using Switchboard.Node.Images;
using Switchboard.Node.Kubelet;
using Switchboard.Kube.Networking;
using Switchboard.Node.Network;
using Switchboard.Node.Resources;
using Switchboard.Node.Runtime;
using Switchboard.Node.Sandbox;
using Switchboard.Node.Server;
using Switchboard.Node.Server.PortForward;
using Switchboard.Node.Streaming;
using Switchboard.Node.Volumes;

namespace Switchboard.Node;

/// <summary>
/// The node: registers the Node, sets up its network namespace and bridge, then runs every pod bound to it (kubelet's
/// loop) and heartbeats. Stopping the agent leaves pods running; a new agent adopts them.
/// </summary>
public sealed partial class NodeAgent : Component
{
    public const string ComponentName = "node";

    /// <summary>The reason of the Warning event saying the node cannot enforce resource limits.</summary>
    public const string CgroupsUnavailableReason = "CgroupsUnavailable";

    private static readonly TimeSpan ExitPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the node waits for its container runtime (the monitor host) before it reports Ready without it.</summary>
    private static readonly TimeSpan RuntimeStartTimeout = TimeSpan.FromSeconds(15);
    private readonly NodeOptions _options;
    private readonly KubeClientSource _client;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public NodeAgent(NodeOptions options, KubeClientSource client, ILoggerFactory loggerFactory, TimeProvider time)
        : base(ComponentName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _client = client;
        _loggerFactory = loggerFactory;
        _time = time;
        _logger = loggerFactory.CreateLogger<NodeAgent>();
    }

    /// <summary>The tools the node cannot run without are checked at start, so a missing one fails <c>up</c> at once.</summary>
    protected override Task OpenAsync(CancellationToken cancellationToken)
    {
        HostTools.Require("ip");
        HostTools.Require("nsenter");
        HostTools.Require("unshare");
        return Task.CompletedTask;
    }

    /// <summary>Ready once the node is registered, its network is up and its pod informer has synced.</summary>
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        IKubernetes client = _client.Client;
        var reporter = new NodeStatusReporter(client, _options, _time, _loggerFactory.CreateLogger<NodeStatusReporter>());
        var cidr = await reporter.RegisterAsync(stoppingToken);
        var names = new NetworkNames(_options.ClusterName, _options.NodeName);
        var network = new NodeNetwork(names, cidr, _options.ServiceCidr, _options.Underlay, _options.HostGateway);
        var nodeIp = _options.ResolveNodeIp();
        if (_options.HostGateway)
        {
            // What it changes outside its own namespaces is said before it changes anything.
            LogHostChanges(_logger, _options.NodeName, nodeIp, network.UplinkPeer, names.NodeNamespace, cidr.Text, cidr.Gateway);
        }

        await network.EnsureNodeAsync(stoppingToken);
        if (_options.Underlay is { } underlay)
        {
            await network.JoinUnderlayAsync(underlay, stoppingToken);
            LogUnderlay(_logger, underlay.Address, underlay.Namespace);
        }
        else if (_options.HostGateway)
        {
            await network.JoinHostAsync(stoppingToken);
        }

        LogNetwork(_logger, _options.NodeName, nodeIp, names.NodeNamespace, cidr.Text);

        using var dialer = new NetnsDialer(names.NodeNamespace);
        var ipam = new Ipam(Path.Combine(_options.StateDirectory, "ipam"), cidr);
        var cgroups = Cgroups.Open(_options.CgroupRoot, _options.ClusterName, _options.NodeName, out string cgroupProblem);
        var sandboxes = new SandboxManager(network, ipam, cgroups, _options, _time, _loggerFactory.CreateLogger<SandboxManager>());
        var pods = new Informer<V1Pod>(ListWatches.Pods(client, $"spec.nodeName={_options.NodeName}"), _loggerFactory.CreateLogger<Informer<V1Pod>>(), _time);
        // For the pods' environment only: the process's informer, shared with the other components in it.
        var services = _client.Informers.Get(() => ListWatches.Services(client), _loggerFactory, _time);
        var configMaps = new Informer<V1ConfigMap>(ListWatches.ConfigMaps(client), _loggerFactory.CreateLogger<Informer<V1ConfigMap>>(), _time);
        var secrets = new Informer<V1Secret>(ListWatches.Secrets(client), _loggerFactory.CreateLogger<Informer<V1Secret>>(), _time);
        var events = new NodeEvents(client, _options.NodeName, _time, _loggerFactory.CreateLogger<NodeEvents>());
        var tokens = new TokenManager(TokenManager.Through(client), _time, Random.Shared);
        var monitors = new MonitorHostClient(_options.SelfCommand, _options.RuntimeDirectory, _time);
        var syncer = new PodSyncer(client, pods, services, sandboxes, new PodVolumes(new CachedVolumeSources(configMaps.Cache, secrets.Cache, tokens), _time), tokens, new ContainerRuntime(monitors, _time, _loggerFactory.CreateLogger<ContainerRuntime>()),
            new ImageCatalog(_options.SelfCommand), new ContainerEnv(new ApiEnvSources(client)), new ProbeRunner(dialer), events, _options, nodeIp,
            _time, _loggerFactory.CreateLogger<PodSyncer>());
        var containers = new NodeContainers(syncer.Pods);
        var streamLogger = _loggerFactory.CreateLogger<RemoteCommand>();
        await using var server = _options.Server is { } serverOptions
            ? await KubeletServer.StartAsync(serverOptions, new Dictionary<string, RequestDelegate>(StringComparer.Ordinal)
            {
                [ResourceMetrics.Path] = new ResourceMetrics(syncer.Pods, cgroups, _time).ServeAsync,
                [ContainerLogHandler.Path] = new ContainerLogHandler(containers, _options.StateDirectory, _time).ServeAsync,
                ["/healthz"] = context => context.Response.WriteAsync("ok", context.RequestAborted),
                ["/exec"] = RemoteCommand.Exec(containers, streamLogger).ServeAsync,
                ["/attach"] = RemoteCommand.Attach(containers, streamLogger).ServeAsync,
                [PortForwardHandler.Path] = new PortForwardHandler(containers, names, _time, _loggerFactory.CreateLogger<PortForwardHandler>()).ServeAsync,
            }, _loggerFactory, stoppingToken)
            : null;
        reporter.KubeletPort = server?.Port ?? 0;
        // host-gw: with an underlay (or the host's network as one), every other node's pod CIDR is routed through its address there.
        var nodes = _options.Underlay is null && !_options.HostGateway ? null : new Informer<V1Node>(ListWatches.Nodes(client), _loggerFactory.CreateLogger<Informer<V1Node>>(), _time);
        using var routeQueue = new WorkQueue<string>(_time, name: "routes");
        nodes?.AddHandler(_ => routeQueue.Add(""), (_, _) => routeQueue.Add(""), _ => routeQueue.Add(""));
        using var queue = syncer.Queue;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        // The workers run until the queue shuts down, which stopping does.
        using var shutDown = stop.Token.Register(queue.ShutDown);
        using var routesShutDown = stop.Token.Register(routeQueue.ShutDown);
        // The container runtime starts with the agent, as kubelet's runs beside it, and the node is Ready once it runs.
        var runtimeHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holdRuntime = monitors.HoldHostAsync(() => runtimeHeld.TrySetResult(), stop.Token);
        var informers = Task.WhenAll(pods.RunAsync(stop.Token), services.RunAsync(stop.Token), configMaps.RunAsync(stop.Token), secrets.RunAsync(stop.Token), nodes?.RunAsync(stop.Token) ?? Task.CompletedTask);
        try
        {
            await Task.WhenAll(pods.WaitForSyncAsync(stoppingToken), services.WaitForSyncAsync(stoppingToken), configMaps.WaitForSyncAsync(stoppingToken), secrets.WaitForSyncAsync(stoppingToken));
            await syncer.CleanUpOrphansAsync(stoppingToken);
            pods.AddHandler(p => queue.Add(ObjectKey.Of(p)), (_, p) => queue.Add(ObjectKey.Of(p)), p => queue.Add(ObjectKey.Of(p)));
            // A change of a ConfigMap or Secret reaches the volumes of the pods using it at their next sync.
            WatchVolumeSources(configMaps, "ConfigMap", pods, queue);
            WatchVolumeSources(secrets, "Secret", pods, queue);
            await WaitForRuntimeAsync(runtimeHeld.Task, stoppingToken);
            await reporter.ReportAsync(nodeIp, null, stoppingToken);
            events.Node("Normal", "Starting", "Starting kubelet.");
            if (cgroups is null)
            {
                events.Node("Warning", CgroupsUnavailableReason, "cpu and memory limits cannot be enforced: " + cgroupProblem);
                LogNoCgroups(_logger, cgroupProblem);
            }
            MarkReady();
            await Task.WhenAll(
                QueueWorkers.RunAsync(queue, _options.Workers, syncer.SyncAsync, _loggerFactory.CreateLogger<PodSyncer>(), stop.Token),
                PollExitsAsync(syncer, stop.Token),
                nodes is null ? Task.CompletedTask : QueueWorkers.RunAsync(routeQueue, 1, (_, token) => SyncRoutesAsync(network, nodes, token), _logger, stop.Token),
                HeartbeatAsync(reporter, nodeIp, stop.Token));
        }
        finally
        {
            await stop.CancelAsync();
            queue.ShutDown();
            await informers;
            await holdRuntime;
        }
    }

    /// <summary>Waits for the container runtime's first hold, at most <see cref="RuntimeStartTimeout"/>: past that the node goes on, and each pod's start reports what keeps the runtime from running.</summary>
    private async Task WaitForRuntimeAsync(Task held, CancellationToken cancellationToken)
    {
        if (await Task.WhenAny(held, Task.Delay(RuntimeStartTimeout, _time, cancellationToken)) != held)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LogRuntimeSlow(_logger, RuntimeStartTimeout.TotalSeconds);
        }
    }

    private static void WatchVolumeSources<T>(Informer<T> informer, string kind, Informer<V1Pod> pods, WorkQueue<string> queue)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        void Changed(T obj)
        {
            foreach (var pod in pods.Cache.InNamespace(obj.Metadata.NamespaceProperty).Where(p => PodVolumes.Uses(p, kind, obj.Metadata.Name)))
            {
                queue.Add(ObjectKey.Of(pod));
            }
        }

        informer.AddHandler(Changed, (_, obj) => Changed(obj), Changed);
    }

    /// <summary>The routes to every other node's pod CIDR, through its <see cref="NodeUnderlay.PublicIpAnnotation"/> address (else its InternalIP).</summary>
    private async Task SyncRoutesAsync(NodeNetwork network, Informer<V1Node> nodes, CancellationToken cancellationToken)
    {
        var wanted = new Dictionary<string, IPAddress>(StringComparer.Ordinal);
        foreach (var node in nodes.Cache.List().Where(n => n.Metadata.Name != _options.NodeName && !string.IsNullOrEmpty(n.Spec?.PodCIDR)))
        {
            string? address = NodeUnderlay.PublicIpOf(node)
                ?? node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address;
            if (IPAddress.TryParse(address, out var ip) && Ipv4Cidr.TryParse(node.Spec.PodCIDR, out _))
            {
                wanted[node.Spec.PodCIDR] = ip;
            }
        }

        var changes = await network.SyncRoutesAsync(wanted, cancellationToken);
        if (network.HostGateway && changes.Count > 0)
        {
            LogHostRoutes(_logger, string.Join("; ", changes));
        }
    }

    private async Task PollExitsAsync(PodSyncer syncer, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(ExitPoll, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                syncer.PollExits();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task HeartbeatAsync(NodeStatusReporter reporter, IPAddress nodeIp, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.StatusUpdateFrequency, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await reporter.ReportAsync(nodeIp, null, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogHeartbeatFailed(_logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Node {Node}: address {Address}, network namespace {Namespace}, pod CIDR {Cidr}")]
    private static partial void LogNetwork(ILogger logger, string node, IPAddress address, string @namespace, string cidr);

    [LoggerMessage(EventId = 5071, Level = LogLevel.Information, Message = "Node on the underlay at {Address} ({Namespace}); other nodes' pod CIDRs routed through their addresses there")]
    private static partial void LogUnderlay(ILogger logger, string address, string @namespace);

    [LoggerMessage(EventId = 5072, Level = LogLevel.Warning, Message = "Node {Node} is a machine of its own (--host-gw): in the network namespace it runs in, the host's, "
        + "it sets net.ipv4.ip_forward=1, adds veth {Link} (proxy_arp on) to its node namespace {Namespace}, routes {Cidr} via {Gateway} dev {Link}, and routes each "
        + "other node's pod CIDR via that node's InternalIP (proto 243), refusing any that overlaps a route of the host's; its own address there is {Address}")]
    private static partial void LogHostChanges(ILogger logger, string node, IPAddress address, string link, string @namespace, string cidr, IPAddress gateway);

    [LoggerMessage(EventId = 5073, Level = LogLevel.Information, Message = "Host routes to other nodes' pods changed: ip {Changes}")]
    private static partial void LogHostRoutes(ILogger logger, string changes);

    [LoggerMessage(EventId = 5050, Level = LogLevel.Warning, Message = "Resource limits not enforced: {Problem}")]
    private static partial void LogNoCgroups(ILogger logger, string problem);

    [LoggerMessage(EventId = 5074, Level = LogLevel.Warning, Message = "The container runtime (monitor host) did not start within {Seconds} s; pods will report why they do not start")]
    private static partial void LogRuntimeSlow(ILogger logger, double seconds);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "Node status not written: {Error}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string error);
}
