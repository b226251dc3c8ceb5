using k8s;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Rbac;

namespace Switchboard.Controllers.Rbac;

/// <summary>
/// kube-controller-manager's clusterrole-aggregation controller: a ClusterRole with an <c>aggregationRule</c> has as its
/// rules the union of the rules of every other ClusterRole its selectors match (in name order, each rule once), written
/// whenever any ClusterRole changes, so edits to an aggregated role's rules are overwritten.
/// </summary>
internal sealed class ClusterRoleAggregationController : QueueController
{
    public ClusterRoleAggregationController(ControllerContext context)
        : base(context, "clusterrole-aggregation")
    {
        // Any role may feed any aggregated one: a change queues every aggregated role.
        void EnqueueAggregated(V1ClusterRole _)
        {
            foreach (var role in context.Informers.ClusterRoles.Cache.List().Where(r => r.AggregationRule is not null))
            {
                Queue.Add(role.Metadata.Name);
            }
        }

        context.Informers.ClusterRoles.AddHandler(EnqueueAggregated, (_, role) => EnqueueAggregated(role), EnqueueAggregated);
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var role = Context.Informers.ClusterRoles.Cache.Get(key);
        if (role?.AggregationRule is not { } aggregation)
        {
            return;
        }

        var rules = ClusterRoleAggregation.RulesOf(role, Context.Informers.ClusterRoles.Cache.List());
        if (ClusterRoleAggregation.HasRules(role, rules))
        {
            return;
        }

        // A new object: the informer's is shared and never changed.
        var aggregated = new V1ClusterRole { ApiVersion = role.ApiVersion, Kind = role.Kind, Metadata = role.Metadata, AggregationRule = aggregation, Rules = rules };
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.RbacAuthorizationV1.ReplaceClusterRoleAsync(aggregated, key, cancellationToken: cancellationToken));
    }
}
