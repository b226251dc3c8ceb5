using System.CommandLine;
using System.Globalization;
using System.Net;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Security;
using Switchboard.Controllers;
using Switchboard.Dns;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.InCluster;
using Switchboard.Dns.Trace;
using Switchboard.EtcdFront;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Node;
using Switchboard.Node.Server;
using Switchboard.Proxy;
using Switchboard.Storage;
using Switchboard.Storage.Etcd;

namespace Switchboard.Commands;

/// <summary><c>switchboard up</c>: everything in one process, in the foreground, until SIGINT or SIGTERM.</summary>
internal static partial class UpCommand
{
    // The underlay's /24 holds this many nodes.
    private const int MaxNodes = 200;

    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var store = CommonOptions.Store();
        var apiServer = new ApiServerFlags();
        var etcdTls = new EtcdTlsFlags();
        var etcdFront = new EtcdFrontFlags();
        var dnsPort = new Option<int>("--dns-port")
        {
            Description = "Port of the cluster DNS server for the host, on 127.0.0.1",
            DefaultValueFactory = _ => 1053,
        };
        var dnsMetrics = DnsFlags.EndPoint("--dns-metrics", "Address of the DNS server's /metrics, /health and /ready", "127.0.0.1:9153");
        var dns = new DnsFlags();
        var nodeName = NodeCommand.NameOption();
        var nodes = new Option<int>("--nodes")
        {
            Description = "Nodes to run: the first in this process, the others as `switchboard agent` child processes, each node's namespace a "
                + "machine on an underlay bridge of the cluster's own; 0 for a control plane only (pods then wait for nodes that join)",
            DefaultValueFactory = _ => 1,
        };
        nodes.Validators.Add(result =>
        {
            if (result.GetValue(nodes) is < 0 or > MaxNodes)
            {
                result.AddError($"--nodes must be between 0 and {MaxNodes}");
            }
        });
        var gracePeriod = ControllersCommand.GracePeriodOption();
        var proxyMode = ProxyCommand.ModeOption("--proxy-mode");
        var proxyMetricsPort = new Option<int>("--proxy-metrics-port")
        {
            Description = "Port of the service proxy's /metrics, /healthz and /trace, on the node's address (kube-proxy's 10249)",
            DefaultValueFactory = _ => 10249,
        };
        var proxyTraceBuffer = ProxyCommand.TraceBufferOption("--proxy-trace-buffer");
        var kubelet = new KubeletFlags("--kubelet-port");
        var command = new Command("up", "Run Switchboard in one process, in the foreground; SIGINT/SIGTERM stops it cleanly")
        {
            dataDir,
            store,
            dnsPort,
            dnsMetrics,
            nodeName,
            nodes,
            proxyMode,
            proxyMetricsPort,
            proxyTraceBuffer,
            gracePeriod,
        };
        apiServer.AddTo(command);
        etcdTls.AddTo(command, store);
        etcdFront.AddTo(command);
        dns.AddTo(command);
        kubelet.AddTo(command);
        command.SetAction((result, cancellationToken) =>
        {
            var directory = new DataDirectory(result.GetRequiredValue(dataDir));
            var apiOptions = apiServer.Read(result, directory);
            int nodeCount = result.GetValue(nodes);
            NodeOptions? nodeOptions = nodeCount == 0 ? null : kubelet.Apply(result, NodeCommand.Options(result.GetRequiredValue(nodeName), directory.Path, clusterName: null));
            if (nodeCount > 1)
            {
                nodeOptions = nodeOptions! with { Underlay = NodeUnderlay.For(nodeOptions.ClusterName, 0) };
            }

            // The cluster networks DNS trusts are this cluster's own ranges: its services' and its pods'.
            IPNetwork[] clusterNetworks = [IPNetwork.Parse(apiOptions.ServiceClusterIpRange), nodeOptions is null ? ForwarderOptions.DefaultClientNetworks[0] : IPNetwork.Parse(nodeOptions.ClusterCidr)];
            var dnsOptions = dns.Read(result, [new IPEndPoint(IPAddress.Loopback, result.GetValue(dnsPort))], result.GetValue(dnsMetrics), clusterNetworks);
            if (nodeOptions is not null)
            {
                // Pods resolve through kube-dns's ClusterIP, which the node's proxy sends to this server in the node's namespace.
                dnsOptions = dnsOptions with { InCluster = new InClusterDnsOptions { NodeNamespace = nodeOptions.NodeNamespace, NodeName = nodeOptions.NodeName, ServiceIp = nodeOptions.ClusterDns } };

                // Pods reach the API through the kubernetes Service's ClusterIP, whose endpoint is the server's listener in the node's namespace.
                apiOptions = apiOptions with { InCluster = new InClusterApiOptions { NodeNamespace = nodeOptions.NodeNamespace, NodeName = nodeOptions.NodeName } };
            }

            return RunAsync(
                directory,
                result.GetRequiredValue(store),
                etcdTls.Read(result),
                etcdFront.Read(result, result.GetRequiredValue(store), directory),
                WithTraceProxy(apiOptions, dnsOptions),
                dnsOptions,
                nodeOptions,
                nodeCount,
                ControllersCommand.WithGracePeriod(new ControllerOptions(), result.GetValue(gracePeriod)),
                kubelet.Port(result),
                (ProxyCommand.ReadMode(result, proxyMode), result.GetValue(proxyMetricsPort), result.GetValue(proxyTraceBuffer)),
                cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// <c>switchboard trace</c> reads DNS's <c>/trace</c> through the API server, as
    /// <c>services/kube-dns:metrics/proxy/trace</c>: the API server forwards to DNS's operations port on the host.
    /// </summary>
    private static ApiServerOptions WithTraceProxy(ApiServerOptions options, DnsServiceOptions dns)
    {
        if (dns.OperationsEndPoint is not { } operations || dns.TraceBuffer == 0)
        {
            return options;
        }

        IPAddress address = operations.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : operations.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : operations.Address;
        var target = new Uri("http://" + new IPEndPoint(address, operations.Port));
        return options with
        {
            ProxiedServices = DnsTraceStream.ServiceProxyKeys.ToDictionary(key => key, _ => target, StringComparer.Ordinal),
        };
    }

    private static async Task<int> RunAsync(
        DataDirectory dataDir, StoreLocation storeLocation, EtcdStoreOptions etcdOptions, EtcdFrontOptions? etcdFrontOptions, ApiServerOptions apiServerOptions, DnsServiceOptions dnsOptions, NodeOptions? nodeOptions,
        int nodeCount, ControllerOptions controllerOptions, int kubeletPort, (ProxyMode Mode, int MetricsPort, int TraceBuffer) proxy, CancellationToken cancellationToken)
    {
        var hold = new LogHold();
        using var loggerFactory = Logging.CreateFactory(hold);
        var logger = loggerFactory.CreateLogger(typeof(UpCommand));
        if (UpPreflight.Missing(nodeOptions is not null, proxy.Mode) is { } missing)
        {
            LogMissingTools(logger, missing);
            return 1;
        }

        if (!dataDir.TryCreate(logger))
        {
            return 1;
        }

        using var instance = RunningInstance.TryStart(dataDir, out int? holder);
        if (instance is null)
        {
            LogAlreadyRunning(logger, dataDir.Path, holder);
            return 1;
        }

        if (nodeOptions is not null)
        {
            // The node's serving certificate comes from the cluster CA, as the API server's client certificate for it will.
            // The node listens on the API server's address, which (when specific) is also its InternalIP.
            var (certificate, key, clientCa) = KubeletCertificates.EnsureServing(
                apiServerOptions.DataDirectory, Path.Combine(nodeOptions.StateDirectory, "pki"), nodeOptions.NodeName, [apiServerOptions.Address], TimeProvider.System);
            nodeOptions = nodeOptions with
            {
                Server = new KubeletServerOptions { Address = apiServerOptions.Address, Port = kubeletPort, CertificateFile = certificate, KeyFile = key, ClientCaFile = clientCa },
            };
        }

        var children = nodeOptions is null ? [] : ChildNodes(dataDir, apiServerOptions, nodeOptions, nodeCount, proxy.Mode);
        if (nodeOptions?.Underlay is not null)
        {
            await NodeUnderlay.EnsureAsync(nodeOptions.ClusterName, cancellationToken);
        }

        await using var kv = await KeyValueStoreFactory.OpenAsync(storeLocation, dataDir.StoreFile, loggerFactory, etcdOptions, cancellationToken, apiServerOptions.CompactionInterval);
        return await ComponentHost.RunAsync(
            loggerFactory,
            services =>
            {
                services
                    .AddApiServer(apiServerOptions, kv)

                    // The components talk to the API server like any client would (ARCHITECTURE rule 1), only in-process,
                    // with what the kubeconfig it writes once it serves says. The one exception is DNS's SkyDNS zone and
                    // mirror, which read and write /skydns in the store as in the seed.
                    .AddKubeClient(provider => KubeClients.FromKubeconfig(provider.GetRequiredService<ApiServerService>().ClientConfiguration))

                    // Each component as an identity of its own, with the least privilege its bootstrap role grants.
                    .AddKubeClient(ControllerManager.ComponentName, ComponentClient(BootstrapIdentities.ControllerManagerUser))
                    .AddKubeClient(DnsService.ComponentName, ComponentClient(BootstrapIdentities.DnsUser))
                    .AddControllers(controllerOptions with { RootCaFile = apiServerOptions.CaFile });
                if (etcdFrontOptions is not null)
                {
                    services.AddEtcdFront(etcdFrontOptions, kv);
                }

                if (nodeOptions is not null)
                {
                    // The node's proxy writes into the namespace the node makes, as kube-proxy beside kubelet. Both
                    // start before DNS, whose in-cluster server waits for that namespace: the node registers and
                    // makes it while DNS opens its listeners.
                    services
                        .AddKubeClient(NodeAgent.ComponentName, ComponentClient(BootstrapIdentities.NodeUser(nodeOptions.NodeName), BootstrapIdentities.NodesGroup))
                        .AddKubeClient(ProxyService.ComponentName, ComponentClient(BootstrapIdentities.ProxyUser));
                    services.AddNode(nodeOptions).AddProxy(new ProxyOptions
                    {
                        NodeNamespace = nodeOptions.NodeNamespace,
                        NodeName = nodeOptions.NodeName,
                        Mode = proxy.Mode,

                        // On the node's address (the API server's, in up), where nodes/NODE:PORT/proxy/trace reaches it.
                        OperationsEndPoint = new IPEndPoint(apiServerOptions.Address, proxy.MetricsPort),
                        TraceBuffer = proxy.TraceBuffer,

                        // kube-proxy's 1 s batches churn on big clusters; on one machine a partial sync costs
                        // milliseconds, and a Service created right after another should not wait a second.
                        MinSyncPeriod = TimeSpan.FromMilliseconds(50),
                    });
                }

                services.AddClusterDns(dnsOptions, kv);
                if (children.Count > 0)
                {
                    services.AddComponent(ChildAgents.ComponentName, provider => new ChildAgents(
                        children, provider.GetRequiredService<KubeClientSource>(), provider.GetRequiredService<ILoggerFactory>().CreateLogger<ChildAgents>()));
                }
            },
            watchStart: new StartupDisplay(
                new StartupDisplay.Endpoints(string.Join(", ", dnsOptions.Listen), proxy.Mode.ToString().ToLowerInvariant(), nodeOptions?.NodeName, nodeOptions?.NodeNamespace),
                hold,
                logger).WatchAsync);
    }

    /// <summary>A component's client of the API server in this process, as <paramref name="user"/> by a client certificate of the cluster CA.</summary>
    private static Func<IServiceProvider, IKubernetes> ComponentClient(string user, string? group = null) =>
        provider => KubeClients.FromKubeconfig(provider.GetRequiredService<ApiServerService>().ClientConfigurationFor(user, group));

    /// <summary>
    /// Nodes 2…N of <c>up --nodes N</c>: <c>NAME-2</c>… as <c>switchboard agent</c> processes of this executable, each with a
    /// serving certificate of the cluster CA, its HTTPS port and proxy endpoint on free ports of the API server's address
    /// (where the API server reaches it, as node 1), and its own address on the cluster's underlay.
    /// </summary>
    private static List<ChildAgents.Agent> ChildNodes(DataDirectory dataDir, ApiServerOptions api, NodeOptions first, int nodeCount, ProxyMode mode)
    {
        var agents = new List<ChildAgents.Agent>();
        for (int index = 1; index < nodeCount; index++)
        {
            string name = $"{first.NodeName}-{index + 1}";
            var options = NodeCommand.Options(name, dataDir.Path, first.ClusterName);
            var (certificate, key, clientCa) = KubeletCertificates.EnsureServing(api.DataDirectory, Path.Combine(options.StateDirectory, "pki"), name, [api.Address], TimeProvider.System);
            var underlay = NodeUnderlay.For(first.ClusterName, index);
            agents.Add(new ChildAgents.Agent(name,
            [
                .. first.SelfCommand, "agent", "--kubeconfig", Path.Combine(dataDir.Path, "kubeconfig"), "--data-dir", dataDir.Path, "--cluster-name", first.ClusterName, "--name", name,
                "--address", api.Address.ToString(), "--port", FreePort(api.Address).ToString(CultureInfo.InvariantCulture),
                "--tls-cert-file", certificate, "--tls-private-key-file", key, "--client-ca-file", clientCa,
                "--underlay-namespace", underlay.Namespace, "--underlay-address", underlay.Address,
                "--node-status-update-frequency", $"{first.StatusUpdateFrequency.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms",
                "--proxy-mode", mode.ToString().ToLowerInvariant(), "--proxy-metrics-address", new IPEndPoint(api.Address, FreePort(api.Address)).ToString(),
            ], Path.Combine(options.StateDirectory, "agent.log")));
        }

        return agents;
    }

    /// <summary>A TCP port free on <paramref name="address"/> now (the kernel's choice of an ephemeral one).</summary>
    private static int FreePort(IPAddress address)
    {
        var listener = new System.Net.Sockets.TcpListener(address, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "{Missing}")]
    private static partial void LogMissingTools(ILogger logger, string missing);

    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "switchboard is already running in {DataDir} (pid {Pid}, which holds its pid file); stop it with `switchboard down`")]
    private static partial void LogAlreadyRunning(ILogger logger, string dataDir, int? pid);
}
