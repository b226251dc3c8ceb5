using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Node.Network;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// Registers the Node and keeps it alive as kubelet does: status computed every 10 s but written only when it
/// changes or every 5 minutes; a Lease in kube-node-lease renewed every 10 s.
/// </summary>
internal sealed partial class NodeStatusReporter(IKubernetes client, NodeOptions options, TimeProvider time, ILogger logger)
{
    private const string LeaseNamespace = "kube-node-lease";
    private static readonly TimeSpan CidrPoll = TimeSpan.FromMilliseconds(200);
    private string? _written;
    private DateTimeOffset _lastReport;
    private bool _leasesUnsupported;

    /// <summary>The port the node's HTTPS server is bound to (kubelet's daemon endpoint); 0 when it serves none.</summary>
    public int KubeletPort { get; set; }

    /// <summary>
    /// Creates the Node if missing (annotated with its underlay address, when it has one) and returns its pod CIDR once
    /// the cluster's node IPAM has given it one in spec.podCIDR, as kubelet waits for kube-controller-manager's.
    /// </summary>
    public async Task<PodCidr> RegisterAsync(CancellationToken cancellationToken)
    {
        var annotations = options.Underlay is { } underlay ? new Dictionary<string, string> { [NodeUnderlay.PublicIpAnnotation] = underlay.Ip.ToString() } : null;
        var node = await GetNodeAsync(cancellationToken);
        if (node is null)
        {
            node = await client.CoreV1.CreateNodeAsync(new V1Node
            {
                Metadata = new V1ObjectMeta
                {
                    Name = options.NodeName,
                    Labels = new Dictionary<string, string>
                    {
                        ["kubernetes.io/hostname"] = options.NodeName,
                        ["kubernetes.io/os"] = "linux",
                        ["kubernetes.io/arch"] = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "amd64",
                    },
                    Annotations = annotations,
                },
            }, cancellationToken: cancellationToken);
        }
        else if (annotations is not null && NodeUnderlay.PublicIpOf(node) != annotations[NodeUnderlay.PublicIpAnnotation])
        {
            string patch = $"{{\"metadata\":{{\"annotations\":{KubernetesJson.Serialize(annotations)}}}}}";
            node = await client.CoreV1.PatchNodeAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), options.NodeName, cancellationToken: cancellationToken);
        }

        bool told = false;
        while (string.IsNullOrEmpty(node?.Spec?.PodCIDR))
        {
            if (!told)
            {
                LogWaitingForCidr(logger, options.NodeName);
                told = true;
            }

            await Task.Delay(CidrPoll, time, cancellationToken);
            node = await GetNodeAsync(cancellationToken);
        }

        return PodCidr.Parse(node.Spec.PodCIDR);
    }

    /// <summary>Writes the status if it changed or the report interval passed, and renews the Lease.</summary>
    public async Task ReportAsync(IPAddress address, string? notReadyReason, CancellationToken cancellationToken)
    {
        var status = Status(address, notReadyReason);
        string json = KubernetesJson.Serialize(status);
        var now = time.GetUtcNow();

        // As kubelet, compared with the stored Node too: the node lifecycle controller sets Ready=Unknown on a node
        // whose Lease it saw expire, which a node that comes back (without a restart) corrects at once.
        var node = await GetNodeAsync(cancellationToken);
        string? storedReady = node?.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status;
        if (json != _written || now - _lastReport >= options.StatusReportFrequency || storedReady != status.Conditions.First(c => c.Type == "Ready").Status)
        {
            var heartbeat = now.UtcDateTime;
            foreach (var condition in status.Conditions)
            {
                var previous = node?.Status?.Conditions?.FirstOrDefault(c => c.Type == condition.Type);
                condition.LastHeartbeatTime = heartbeat;
                condition.LastTransitionTime = previous?.Status == condition.Status ? previous.LastTransitionTime : heartbeat;
            }

            string patch = $"{{\"status\":{KubernetesJson.Serialize(status)}}}";
            await client.CoreV1.PatchNodeStatusAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), options.NodeName, cancellationToken: cancellationToken);
            _written = json;
            _lastReport = now;
        }

        await RenewLeaseAsync(cancellationToken);
    }

    private V1NodeStatus Status(IPAddress address, string? notReadyReason)
    {
        string memory = (Kubelet.NodeResources.MemoryBytes() / 1024).ToString(CultureInfo.InvariantCulture) + "Ki";
        var capacity = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new(Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)),
            ["memory"] = new(memory),
            ["pods"] = new("110"),
            ["hugepages-2Mi"] = new("0"),
        };
        V1NodeCondition Condition(string type, string status, string reason, string message) => new() { Type = type, Status = status, Reason = reason, Message = message };
        return new V1NodeStatus
        {
            Addresses = [new V1NodeAddress { Address = address.ToString(), Type = "InternalIP" }, new V1NodeAddress { Address = options.NodeName, Type = "Hostname" }],
            Capacity = capacity,
            Allocatable = capacity,
            Conditions =
            [
                Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                notReadyReason is null
                    ? Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")
                    : Condition("Ready", "False", "KubeletNotReady", notReadyReason),
            ],
            DaemonEndpoints = new V1NodeDaemonEndpoints { KubeletEndpoint = new V1DaemonEndpoint { Port = KubeletPort } },
            NodeInfo = new V1NodeSystemInfo
            {
                Architecture = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "amd64",
                BootID = ReadOrEmpty("/proc/sys/kernel/random/boot_id"),
                MachineID = ReadOrEmpty("/etc/machine-id"),
                SystemUUID = ReadOrEmpty("/etc/machine-id"),
                KernelVersion = ReadOrEmpty("/proc/sys/kernel/osrelease"),
                OsImage = OsImage(),
                OperatingSystem = "linux",
                ContainerRuntimeVersion = "switchboard://0.1.0",
                KubeletVersion = "v1.33.0-switchboard",
                KubeProxyVersion = "",
            },
        };
    }

    private async Task RenewLeaseAsync(CancellationToken cancellationToken)
    {
        if (_leasesUnsupported)
        {
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        try
        {
            var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(options.NodeName, LeaseNamespace, cancellationToken: cancellationToken);
            lease.Spec.RenewTime = now;
            lease.Spec.HolderIdentity = options.NodeName;
            await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, options.NodeName, LeaseNamespace, cancellationToken: cancellationToken);
            return;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // The first heartbeat: create the Lease (and kube-node-lease, if the cluster has not).
        }

        try
        {
            try
            {
                await Conflicts(() => client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = LeaseNamespace } }, cancellationToken: cancellationToken));
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
            {
                // Under RBAC a node may not create namespaces (system:node): the API server makes kube-node-lease itself.
            }

            var node = await GetNodeAsync(cancellationToken);
            await Conflicts(() => client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
            {
                Metadata = new V1ObjectMeta
                {
                    Name = options.NodeName,
                    NamespaceProperty = LeaseNamespace,
                    OwnerReferences = node is null ? null : [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = options.NodeName, Uid = node.Metadata.Uid }],
                },
                Spec = new V1LeaseSpec { HolderIdentity = options.NodeName, LeaseDurationSeconds = 40, RenewTime = now },
            }, LeaseNamespace, cancellationToken: cancellationToken));
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // The API server does not serve coordination.k8s.io: the status heartbeat stays.
            _leasesUnsupported = true;
            LogNoLeases(logger, e.Response.Content);
        }
    }

    /// <summary>Runs a create that may find the object there already.</summary>
    private static async Task Conflicts<T>(Func<Task<T>> create)
    {
        try
        {
            await create();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }
    }

    private async Task<V1Node?> GetNodeAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await client.CoreV1.ReadNodeAsync(options.NodeName, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static string OsImage()
    {
        foreach (string line in File.Exists("/etc/os-release") ? File.ReadLines("/etc/os-release") : [])
        {
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            {
                return line["PRETTY_NAME=".Length..].Trim('"');
            }
        }

        return "Linux";
    }

    private static string ReadOrEmpty(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "";

    [LoggerMessage(EventId = 5070, Level = LogLevel.Information, Message = "Node {Node} waits for the cluster's node IPAM to give it a pod CIDR (spec.podCIDR)")]
    private static partial void LogWaitingForCidr(ILogger logger, string node);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "No node Lease heartbeat: the API server answered {Answer}")]
    private static partial void LogNoLeases(ILogger logger, string answer);
}
