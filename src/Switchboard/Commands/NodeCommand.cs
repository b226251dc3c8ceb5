using System.CommandLine;
using System.Net;
using Switchboard.Kube.Hosting;
using Switchboard.Node;
using Switchboard.Node.Server;
using Switchboard.Proxy;

namespace Switchboard.Commands;

/// <summary>
/// <c>switchboard node</c>: the node agent alone (kubelet and the pod network), against any Kubernetes API server;
/// <c>switchboard agent</c>: the node agent and its service proxy in one process, as a machine joining a cluster runs them.
/// </summary>
internal static class NodeCommand
{
    public static Command Create() => Create("node", "Run the node agent alone: register the node, run the pods bound to it in network namespaces; "
        + "with --tls-cert-file, --tls-private-key-file and --client-ca-file it also serves HTTPS on --port", withProxy: false);

    public static Command CreateAgent() => Create("agent", "Run the node agent and its service proxy in one process: join the cluster as a node (pod CIDR "
        + "from the cluster, pods, routes to the other nodes' pods over --underlay-namespace or, with --host-gw, the host's network) and program every Service into the node's namespace", withProxy: true);

    private static Command Create(string commandName, string description, bool withProxy)
    {
        var kubeconfig = CommonOptions.Kubeconfig();
        var dataDir = CommonOptions.DataDir();
        var name = NameOption("--name");
        var clusterName = new Option<string?>("--cluster-name")
        {
            Description = "Prefix of the network namespaces this cluster's nodes make (default: derived from --data-dir)",
        };
        clusterName.Validators.Add(result =>
        {
            if (result.GetValue(clusterName) is { } value && !ClusterNames.IsValid(value))
            {
                result.AddError("--cluster-name must be 1-12 lowercase letters, digits or '-'");
            }
        });
        var address = new Option<string>("--address")
        {
            Description = "Address the node's HTTPS server listens on",
            DefaultValueFactory = _ => "0.0.0.0",
        };
        address.Validators.Add(result =>
        {
            if (!IPAddress.TryParse(result.GetValue(address), out _))
            {
                result.AddError("--address must be an IP address");
            }
        });
        var nodeIp = new Option<string?>("--node-ip")
        {
            Description = "The node's address, reported as its InternalIP and its pods' hostIP, where the API server reaches its HTTPS port "
                + "(default: --address when it is a specific one, else the host's first non-loopback IPv4 address)",
        };
        nodeIp.Validators.Add(result =>
        {
            if (result.GetValue(nodeIp) is { } value && !IPAddress.TryParse(value, out _))
            {
                result.AddError("--node-ip must be an IP address");
            }
        });
        var certificate = new Option<FileInfo?>("--tls-cert-file") { Description = "The node's serving certificate (PEM) for its HTTPS server" };
        var key = new Option<FileInfo?>("--tls-private-key-file") { Description = "The serving certificate's private key (PEM)" };
        var clientCa = new Option<FileInfo?>("--client-ca-file") { Description = "CA whose client certificates the HTTPS server accepts (PEM); others get 401" };
        var underlayNamespace = new Option<string?>("--underlay-namespace")
        {
            Description = "A network namespace whose bridge joins this cluster's nodes on one host (`up --nodes N` makes it): the node's namespace "
                + "gets a veth there with --underlay-address and routes to the other nodes' pod CIDRs through their addresses on it",
        };
        var underlayAddress = new Option<string?>("--underlay-address") { Description = "The node's address on the underlay, with its prefix length (10.243.0.3/24)" };
        underlayAddress.Validators.Add(result =>
        {
            if (result.GetValue(underlayAddress) is { } value && !Switchboard.Kube.Networking.Ipv4Cidr.TryParse(value, out _))
            {
                result.AddError("--underlay-address must be an IPv4 address with a prefix length (10.243.0.3/24)");
            }
        });
        var hostGateway = new Option<bool>("--host-gw")
        {
            Description = "The node is a machine of its own: the network namespace it runs in (the host's) is its underlay. It routes its pod CIDR "
                + "into its node namespace there and the other nodes' pod CIDRs through their InternalIPs (flannel's host-gw), turns on forwarding, "
                + "says at start what it changes, and refuses a route that overlaps one of the host's. Its address: --node-ip, else the default route's interface's",
        };
        var kubelet = new KubeletFlags("--port");
        var command = new Command(commandName, description)
        {
            kubeconfig, name, dataDir, clusterName, address, nodeIp, certificate, key, clientCa, underlayNamespace, underlayAddress, hostGateway,
        };
        kubelet.AddTo(command);
        var proxyMode = ProxyCommand.ModeOption("--proxy-mode");
        var proxyMetrics = DnsFlags.EndPoint("--proxy-metrics-address", "Address of the service proxy's /metrics, /healthz and /trace", "127.0.0.1:10249");
        var proxyTraceBuffer = ProxyCommand.TraceBufferOption("--proxy-trace-buffer");
        if (withProxy)
        {
            command.Options.Add(proxyMode);
            command.Options.Add(proxyMetrics);
            command.Options.Add(proxyTraceBuffer);
        }

        command.Validators.Add(result =>
        {
            if ((result.GetValue(underlayNamespace) is null) != (result.GetValue(underlayAddress) is null))
            {
                result.AddError("--underlay-namespace and --underlay-address go together");
            }

            if (result.GetValue(hostGateway) && result.GetValue(underlayNamespace) is not null)
            {
                result.AddError("--host-gw and --underlay-namespace exclude each other: a node's underlay is either the host's network or a namespace's bridge");
            }
        });
        command.Validators.Add(result =>
        {
            int given = new[] { result.GetValue(certificate), result.GetValue(key), result.GetValue(clientCa) }.Count(f => f is not null);
            if (given is not (0 or 3))
            {
                result.AddError("--tls-cert-file, --tls-private-key-file and --client-ca-file go together");
            }
        });
        command.SetAction(async (result, _) =>
        {
            string data = result.GetRequiredValue(dataDir).FullName;
            string node = result.GetRequiredValue(name);
            string path = result.GetRequiredValue(kubeconfig).FullName;
            var options = kubelet.Apply(result, Options(node, data, result.GetValue(clusterName))) with
            {
                NodeIp = result.GetValue(nodeIp) is { } ip ? IPAddress.Parse(ip) : null,
                Underlay = result.GetValue(underlayNamespace) is { } underlay ? new NodeUnderlay(underlay, result.GetRequiredValue(underlayAddress)!) : null,
                HostGateway = result.GetValue(hostGateway),
            };
            if (result.GetValue(certificate) is { } cert)
            {
                options = options with
                {
                    Server = new KubeletServerOptions
                    {
                        Address = IPAddress.Parse(result.GetRequiredValue(address)),
                        Port = kubelet.Port(result),
                        CertificateFile = cert.FullName,
                        KeyFile = result.GetRequiredValue(key)!.FullName,
                        ClientCaFile = result.GetRequiredValue(clientCa)!.FullName,
                    },
                };
            }

            if (withProxy)
            {
                AgentProcess.Record(options);
            }

            using var loggerFactory = Logging.CreateFactory();
            return await ComponentHost.RunAsync(loggerFactory, services =>
            {
                services.AddKubeClient(path).AddNode(options);
                if (withProxy)
                {
                    // As in up, the proxy serves its own /metrics, /healthz and /trace, on the node's address.
                    services.AddProxy(new ProxyOptions
                    {
                        NodeNamespace = options.NodeNamespace,
                        NodeName = options.NodeName,
                        Mode = ProxyCommand.ReadMode(result, proxyMode),
                        OperationsEndPoint = result.GetValue(proxyMetrics),
                        TraceBuffer = result.GetValue(proxyTraceBuffer),
                    });
                }
            });
        });
        return command;
    }

    /// <summary>The node's name: <c>--name</c> of <c>switchboard node</c>, <c>--node-name</c> of <c>up</c>.</summary>
    public static Option<string> NameOption(string name = "--node-name") => new(name)
    {
        Description = "The Node's name (default: the host's short name)",
        DefaultValueFactory = _ => Environment.MachineName.Split('.')[0].ToLowerInvariant(),
    };

    /// <summary>The node's options for a data dir: state under DIR/nodes/NAME, the cluster name from the dir unless given.</summary>
    public static NodeOptions Options(string nodeName, string dataDirectory, string? clusterName) => new()
    {
        NodeName = nodeName,
        ClusterName = clusterName ?? ClusterNames.FromDataDirectory(dataDirectory),
        StateDirectory = Path.Combine(dataDirectory, "nodes", nodeName),
        SelfCommand = SelfCommand(),
    };

    /// <summary>How to run this executable again (apphost, or dotnet with the entry assembly).</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, Path.Combine(AppContext.BaseDirectory, "switchboard.dll")]
            : [process];
    }
}
