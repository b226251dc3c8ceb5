using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Networking;

namespace Switchboard.Controllers.Nodes;

/// <summary>
/// kube-controller-manager's node IPAM with <c>--allocate-node-cidrs</c> (the range allocator): every Node without
/// spec.podCIDR gets the first free /24 (<see cref="ControllerOptions.NodeCidrMaskSize"/>) of the cluster CIDR, in
/// spec.podCIDR and spec.podCIDRs; the CIDRs nodes already have are taken, whoever set them. One worker, so two nodes
/// joining at once never get the same range; a range this controller gave counts as taken until the informer shows it.
/// </summary>
internal sealed partial class NodeIpamController : QueueController
{
    private readonly Ipv4Cidr _clusterCidr;
    private readonly Dictionary<string, string> _given = new(StringComparer.Ordinal);

    public NodeIpamController(ControllerContext context, string clusterCidr)
        : base(context, "nodeipam")
    {
        _clusterCidr = Ipv4Cidr.Parse(clusterCidr);
        context.Informers.Nodes.AddHandler(n => Queue.Add(n.Metadata.Name), (_, n) => Queue.Add(n.Metadata.Name));
    }

    protected override int Workers => 1;

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var node = Context.Informers.Nodes.Cache.Get(key);
        if (node is null || !string.IsNullOrEmpty(node.Spec?.PodCIDR))
        {
            _given.Remove(key);
            return;
        }

        if (_given.TryGetValue(key, out string? given))
        {
            // Patched already; the informer has not caught up.
            return;
        }

        var taken = Context.Informers.Nodes.Cache.List().Select(n => n.Spec?.PodCIDR).OfType<string>().Concat(_given.Values).ToHashSet(StringComparer.Ordinal);
        int size = Context.Options.NodeCidrMaskSize;
        long count = _clusterCidr.SubnetCount(size);
        string? free = null;
        for (long i = 0; i < count && free is null; i++)
        {
            string candidate = _clusterCidr.Subnet(size, i).ToString();
            free = taken.Contains(candidate) ? null : candidate;
        }

        if (free is null)
        {
            Context.Events.Warning(node, "cidrAllocator", "CIDRNotAvailable", $"Node {key} status is now: CIDRNotAvailable");
            LogNoCidr(Logger, key, _clusterCidr.ToString());
            return;
        }

        var patch = new JsonObject { ["spec"] = new JsonObject { ["podCIDR"] = free, ["podCIDRs"] = new JsonArray(free) } };
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.CoreV1.PatchNodeAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), key, cancellationToken: cancellationToken));
        _given[key] = free;
        LogAllocated(Logger, free, key);
    }

    [LoggerMessage(EventId = 2060, Level = LogLevel.Information, Message = "Pod CIDR {Cidr} allocated to node {Node}")]
    private static partial void LogAllocated(ILogger logger, string cidr, string node);

    [LoggerMessage(EventId = 2061, Level = LogLevel.Warning, Message = "No pod CIDR left for node {Node} in the cluster CIDR {ClusterCidr}")]
    private static partial void LogNoCidr(ILogger logger, string node, string clusterCidr);
}
