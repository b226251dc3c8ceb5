using k8s;
using k8s.Models;
using Switchboard.Controllers.Shared;

namespace Switchboard.Controllers.Namespaces;

/// <summary>
/// Finishes a namespace deletion: deletes everything in the namespace, waits until it is all gone (pods on a node leave
/// when their node confirms), then removes the <c>kubernetes</c> finalizer so the API server removes the namespace.
/// </summary>
internal sealed class NamespaceController : QueueController
{
    private const string Finalizer = "kubernetes";
    private static readonly TimeSpan RecheckDelay = TimeSpan.FromMilliseconds(500);

    public NamespaceController(ControllerContext context)
        : base(context, "namespace")
    {
        context.Informers.Namespaces.AddHandler(Enqueue, (_, ns) => Enqueue(ns));
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var ns = Context.Informers.Namespaces.Cache.Get(key);
        if (ns?.Metadata.DeletionTimestamp is null || ns.Spec?.Finalizers?.Contains(Finalizer) != true)
        {
            return;
        }

        string name = ns.Metadata.Name;
        var core = Context.Client.CoreV1;
        var apps = Context.Client.AppsV1;
        var discovery = Context.Client.DiscoveryV1;
        var background = new V1DeleteOptions { PropagationPolicy = "Background" };

        // Workloads first so their controllers stop replacing pods, then everything else.
        await apps.DeleteCollectionNamespacedDeploymentAsync(name, background, cancellationToken: cancellationToken);
        await apps.DeleteCollectionNamespacedReplicaSetAsync(name, background, cancellationToken: cancellationToken);
        await core.DeleteCollectionNamespacedPodAsync(name, background, cancellationToken: cancellationToken);
        await core.DeleteCollectionNamespacedServiceAsync(name, background, cancellationToken: cancellationToken);
        await core.DeleteCollectionNamespacedEndpointsAsync(name, background, cancellationToken: cancellationToken);
        await discovery.DeleteCollectionNamespacedEndpointSliceAsync(name, background, cancellationToken: cancellationToken);
        await core.DeleteCollectionNamespacedConfigMapAsync(name, background, cancellationToken: cancellationToken);
        await core.DeleteCollectionNamespacedSecretAsync(name, background, cancellationToken: cancellationToken);
        await core.DeleteCollectionNamespacedServiceAccountAsync(name, background, cancellationToken: cancellationToken);
        await Context.Client.RbacAuthorizationV1.DeleteCollectionNamespacedRoleBindingAsync(name, background, cancellationToken: cancellationToken);
        await Context.Client.RbacAuthorizationV1.DeleteCollectionNamespacedRoleAsync(name, background, cancellationToken: cancellationToken);
        await core.DeleteCollectionNamespacedEventAsync(name, background, cancellationToken: cancellationToken);

        long left = (await apps.ListNamespacedDeploymentAsync(name, limit: 1, cancellationToken: cancellationToken)).Items.Count
            + (await apps.ListNamespacedReplicaSetAsync(name, limit: 1, cancellationToken: cancellationToken)).Items.Count
            + (await core.ListNamespacedPodAsync(name, limit: 1, cancellationToken: cancellationToken)).Items.Count
            + (await core.ListNamespacedServiceAsync(name, limit: 1, cancellationToken: cancellationToken)).Items.Count
            + (await core.ListNamespacedEndpointsAsync(name, limit: 1, cancellationToken: cancellationToken)).Items.Count
            + (await discovery.ListNamespacedEndpointSliceAsync(name, limit: 1, cancellationToken: cancellationToken)).Items.Count
            + (await core.ListNamespacedConfigMapAsync(name, limit: 1, cancellationToken: cancellationToken)).Items.Count;
        if (left > 0)
        {
            // Pods wait for their node to confirm they stopped: look again shortly.
            Queue.AddAfter(key, RecheckDelay);
            return;
        }

        // Events written during the teardown go too; then the namespace may go.
        await core.DeleteCollectionNamespacedEventAsync(name, background, cancellationToken: cancellationToken);
        var finalized = new V1Namespace
        {
            Metadata = new V1ObjectMeta { Name = name, ResourceVersion = ns.Metadata.ResourceVersion },
            Spec = new V1NamespaceSpec { Finalizers = [.. ns.Spec.Finalizers.Where(f => f != Finalizer)] },
        };
        await ApiCalls.IgnoreNotFoundAsync(() => core.ReplaceNamespaceFinalizeAsync(finalized, name, cancellationToken: cancellationToken));
    }

    private void Enqueue(V1Namespace ns)
    {
        if (ns.Metadata.DeletionTimestamp is not null)
        {
            Queue.Add(ns.Metadata.Name);
        }
    }
}
