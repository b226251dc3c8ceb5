using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;

namespace Switchboard.Controllers.Scheduling;

/// <summary>
/// The node lifecycle controller's TaintNodesByCondition for cordoning: a node with spec.unschedulable gets the
/// <c>node.kubernetes.io/unschedulable:NoSchedule</c> taint, and loses it when uncordoned, so that pods that tolerate
/// it (as DaemonSet pods do) may still be scheduled there and everything else is kept off.
/// </summary>
internal sealed class UnschedulableTaintController : QueueController
{
    public const string TaintKey = "node.kubernetes.io/unschedulable";

    public UnschedulableTaintController(ControllerContext context)
        : base(context, "node-unschedulable-taint")
    {
        context.Informers.Nodes.AddHandler(Enqueue, (old, node) =>
        {
            if (old.Spec?.Unschedulable != node.Spec?.Unschedulable || HasTaint(old) != HasTaint(node))
            {
                Enqueue(node);
            }
        });
    }

    /// <summary>Whether taint <paramref name="taint"/> is the one cordoning implies.</summary>
    public static bool IsUnschedulableTaint(V1Taint taint) => taint.Key == TaintKey && taint.Effect == "NoSchedule";

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var node = Context.Informers.Nodes.Cache.Get(key);
        if (node is null)
        {
            return;
        }

        bool cordoned = node.Spec?.Unschedulable == true;
        if (cordoned == HasTaint(node))
        {
            return;
        }

        var taints = (node.Spec?.Taints ?? []).Where(t => !IsUnschedulableTaint(t)).ToList();
        if (cordoned)
        {
            taints.Add(new V1Taint { Key = TaintKey, Effect = "NoSchedule", TimeAdded = Context.Time.GetUtcNow().UtcDateTime });
        }

        // The whole list with the node's resourceVersion: a concurrent change of the taints is a conflict, retried.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = node.Metadata.ResourceVersion },
            ["spec"] = new JsonObject { ["taints"] = taints.Count == 0 ? null : Json.Node(taints) },
        };
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.CoreV1.PatchNodeAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), node.Metadata.Name, cancellationToken: cancellationToken));
    }

    private static bool HasTaint(V1Node node) => node.Spec?.Taints?.Any(IsUnschedulableTaint) == true;

    private void Enqueue(V1Node node) => Queue.Add(ObjectKey.Of(node));
}
