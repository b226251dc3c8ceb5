using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer.Allocation;
using Switchboard.ApiServer.Http;
using Switchboard.ApiServer.Kinds;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Registry;

/// <summary>Every served kind: a line each (model type, strategy, scope, short names, subresources).</summary>
internal sealed class ResourceCatalog
{
    public ResourceCatalog(RegistryContext context, ApiServerOptions options, ILoggerFactory loggerFactory)
    {
        var range = ClusterIpRange.Parse(options.ServiceClusterIpRange);
        var clusterIps = new RangeAllocator(context.Store, "/registry/ranges/serviceips", range.Text, range.Size, range.StaticOffset, context.Random);
        int nodePortCount = options.NodePortRangeEnd - options.NodePortRangeStart + 1;
        var nodePorts = new RangeAllocator(context.Store, "/registry/ranges/servicenodeports", $"{options.NodePortRangeStart}-{options.NodePortRangeEnd}", nodePortCount, Math.Min(Math.Max(16, nodePortCount / 32), 128), context.Random);
        ClusterIps = range;

        Namespaces = Handler(context, ResourceKind<V1Namespace>.Create(new NamespaceStrategy(), namespaced: false, ["ns"], status: true));
        Services = Handler(context, ResourceKind<V1Service>.Create(new ServiceStrategy(range, clusterIps, nodePorts, options.NodePortRangeStart), namespaced: true, ["svc"], all: true, status: true));
        Endpoints = Handler(context, ResourceKind<V1Endpoints>.Create(new EndpointsStrategy(), namespaced: true, ["ep"], createOnUpdate: true));
        var events = Handler(context, ResourceKind<Corev1Event>.Create(new EventStrategy(), namespaced: true, ["ev"], createOnUpdate: true));
        RangeRepair Repairing(RangeAllocator allocator, RepairSubject subject) =>
            new(allocator, Services.Store, subject, new EventRecorder(events.Store, context, subject.Component), loggerFactory.CreateLogger<RangeRepair>());
        Repair = new ServiceAllocationRepair(
            [Repairing(clusterIps, RepairSubject.ClusterIps(range)), Repairing(nodePorts, RepairSubject.NodePorts(options.NodePortRangeStart, options.NodePortRangeEnd))],
            context.Time,
            loggerFactory.CreateLogger<ServiceAllocationRepair>());
        Handlers =
        [
            Namespaces,
            Services,
            Endpoints,
            Handler(context, ResourceKind<V1Pod>.Create(new PodStrategy(), namespaced: true, ["po"], all: true, status: true, binding: new BindingAccess<V1Pod>(PodBinding.Validate, PodBinding.Bind))),
            events,
            Handler(context, ResourceKind<V1Node>.Create(new NodeStrategy(), namespaced: false, ["no"], status: true)),
            Handler(context, ResourceKind<V1ConfigMap>.Create(new ConfigMapStrategy(), namespaced: true, ["cm"])),
            Handler(context, ResourceKind<V1Deployment>.Create(new DeploymentStrategy(), namespaced: true, ["deploy"], all: true, status: true, scale: new ScaleAccess<V1Deployment>(
                d => d.Spec?.Replicas ?? 0, (d, n) => d.Spec.Replicas = n, d => d.Status?.Replicas ?? 0, d => Columns.Selector(d.Spec?.Selector)))),
            Handler(context, ResourceKind<V1ReplicaSet>.Create(new ReplicaSetStrategy(), namespaced: true, ["rs"], all: true, status: true, scale: new ScaleAccess<V1ReplicaSet>(
                r => r.Spec?.Replicas ?? 0, (r, n) => r.Spec.Replicas = n, r => r.Status?.Replicas ?? 0, r => Columns.Selector(r.Spec?.Selector)))),
            Handler(context, ResourceKind<V1EndpointSlice>.Create(new EndpointSliceStrategy(), namespaced: true)),
        ];
    }

    public IReadOnlyList<IResourceHandler> Handlers { get; }

    /// <summary>Keeps the ClusterIP and NodePort bitmaps true to the stored Services.</summary>
    public ServiceAllocationRepair Repair { get; }

    public ClusterIpRange ClusterIps { get; }

    public ResourceHandler<V1Namespace> Namespaces { get; }

    public ResourceHandler<V1Service> Services { get; }

    public ResourceHandler<V1Endpoints> Endpoints { get; }

    private static ResourceHandler<T> Handler<T>(RegistryContext context, ResourceKind<T> kind)
        where T : class, k8s.IKubernetesObject<V1ObjectMeta>, new() => new(kind, context);
}
