using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer.Allocation;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Http;
using Switchboard.ApiServer.Kinds;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Hosting;

/// <summary>
/// Every served kind, a line each (model type, strategy, scope, short names, subresources): the registry's store of
/// each, with the kind's strategy and the allocators plugged in, and its REST handler.
/// </summary>
internal sealed class ResourceCatalog
{
    private readonly List<IResourceHandler> _handlers = [];

    public ResourceCatalog(RegistryContext context, ApiServerOptions options, ILoggerFactory loggerFactory)
    {
        var range = ClusterIpRange.Parse(options.ServiceClusterIpRange);
        var clusterIps = new RangeAllocator(context.Store, "/registry/ranges/serviceips", range.Text, range.Size, range.StaticOffset, context.Random);
        int nodePortCount = options.NodePortRangeEnd - options.NodePortRangeStart + 1;
        var nodePorts = new RangeAllocator(context.Store, "/registry/ranges/servicenodeports", $"{options.NodePortRangeStart}-{options.NodePortRangeEnd}", nodePortCount, Math.Min(Math.Max(16, nodePortCount / 32), 128), context.Random);
        ClusterIps = range;

        Namespaces = Serve(context, ResourceKind<V1Namespace>.Create(new NamespaceStrategy(), namespaced: false, ["ns"], status: true));
        Services = Serve(context, ResourceKind<V1Service>.Create(new ServiceStrategy(range, clusterIps, nodePorts, options.NodePortRangeStart), namespaced: true, ["svc"], all: true, status: true));
        Endpoints = Serve(context, ResourceKind<V1Endpoints>.Create(new EndpointsStrategy(), namespaced: true, ["ep"], createOnUpdate: true));
        Pods = Serve(context, ResourceKind<V1Pod>.Create(new PodStrategy(options.DefaultTolerationSeconds, !options.ServiceAccountAdmission ? null : new ServiceAccountAdmission((ns, name, token) => ServiceAccounts!.TryGetAsync(ns, name, token), context)), namespaced: true, ["po"], all: true, status: true, binding: new BindingAccess<V1Pod>(PodBinding.Validate, PodBinding.Bind)));
        Events = Serve(context, ResourceKind<Corev1Event>.Create(new EventStrategy(), namespaced: true, ["ev"], createOnUpdate: true));
        Nodes = Serve(context, ResourceKind<V1Node>.Create(new NodeStrategy(), namespaced: false, ["no"], status: true));
        Serve(context, ResourceKind<V1ConfigMap>.Create(new ConfigMapStrategy(), namespaced: true, ["cm"]));
        Secrets = Serve(context, ResourceKind<V1Secret>.Create(new SecretStrategy(), namespaced: true));
        Serve(context, ResourceKind<V1Deployment>.Create(new DeploymentStrategy(), namespaced: true, ["deploy"], all: true, status: true, scale: new ScaleAccess<V1Deployment>(
            d => d.Spec?.Replicas ?? 0, (d, n) => d.Spec.Replicas = n, d => d.Status?.Replicas ?? 0, d => Columns.Selector(d.Spec?.Selector))));
        Serve(context, ResourceKind<V1ReplicaSet>.Create(new ReplicaSetStrategy(), namespaced: true, ["rs"], all: true, status: true, scale: new ScaleAccess<V1ReplicaSet>(
            r => r.Spec?.Replicas ?? 0, (r, n) => r.Spec.Replicas = n, r => r.Status?.Replicas ?? 0, r => Columns.Selector(r.Spec?.Selector))));
        EndpointSlices = Serve(context, ResourceKind<V1EndpointSlice>.Create(new EndpointSliceStrategy(), namespaced: true));
        Serve(context, ResourceKind<V1Lease>.Create(new LeaseStrategy(), namespaced: true));
        ServiceAccounts = Serve(context, ResourceKind<V1ServiceAccount>.Create(new ServiceAccountStrategy(), namespaced: true, ["sa"]));
        Roles = Serve(context, ResourceKind<V1Role>.Create(new RoleStrategy(Escalation), namespaced: true));
        ClusterRoles = Serve(context, ResourceKind<V1ClusterRole>.Create(new ClusterRoleStrategy(Escalation), namespaced: false));
        RoleBindings = Serve(context, ResourceKind<V1RoleBinding>.Create(new RoleBindingStrategy(Escalation), namespaced: true));
        ClusterRoleBindings = Serve(context, ResourceKind<V1ClusterRoleBinding>.Create(new ClusterRoleBindingStrategy(Escalation), namespaced: false));
        Serve(context, ResourceKind<V1StatefulSet>.Create(new StatefulSetStrategy(), namespaced: true, ["sts"], all: true, status: true, scale: new ScaleAccess<V1StatefulSet>(
            s => s.Spec?.Replicas ?? 0, (s, n) => s.Spec.Replicas = n, s => s.Status?.Replicas ?? 0, s => Columns.Selector(s.Spec?.Selector))));
        Serve(context, ResourceKind<V1DaemonSet>.Create(new DaemonSetStrategy(), namespaced: true, ["ds"], all: true, status: true));
        Serve(context, ResourceKind<V1ControllerRevision>.Create(new ControllerRevisionStrategy(), namespaced: true));
        Serve(context, ResourceKind<V1Job>.Create(new JobStrategy(), namespaced: true, all: true, status: true));
        Serve(context, ResourceKind<V1CronJob>.Create(new CronJobStrategy(), namespaced: true, ["cj"], all: true, status: true));
        DisruptionBudgets = Serve(context, ResourceKind<V1PodDisruptionBudget>.Create(new PodDisruptionBudgetStrategy(), namespaced: true, ["pdb"], status: true));
        Serve(context, ResourceKind<V1NetworkPolicy>.Create(new NetworkPolicyStrategy(), namespaced: true, ["netpol"]));

        RangeRepair Repairing(RangeAllocator allocator, RepairSubject subject) =>
            new(allocator, Services, subject, new EventRecorder(Events, context, subject.Component), loggerFactory.CreateLogger<RangeRepair>());
        Repair = new ServiceAllocationRepair(
            [Repairing(clusterIps, RepairSubject.ClusterIps(range)), Repairing(nodePorts, RepairSubject.NodePorts(options.NodePortRangeStart, options.NodePortRangeEnd))],
            context.Time,
            loggerFactory.CreateLogger<ServiceAllocationRepair>());
    }

    /// <summary>The check that keeps RBAC writes from granting more than their writer holds; its authorizer is set once RBAC runs.</summary>
    public EscalationCheck Escalation { get; } = new();

    /// <summary>The REST handler of every kind, in the order discovery lists them.</summary>
    public IReadOnlyList<IResourceHandler> Handlers => _handlers;

    /// <summary>Keeps the ClusterIP and NodePort bitmaps true to the stored Services.</summary>
    public ServiceAllocationRepair Repair { get; }

    public ClusterIpRange ClusterIps { get; }

    public ResourceStore<V1Namespace> Namespaces { get; }

    public ResourceStore<V1Service> Services { get; }

    public ResourceStore<V1Endpoints> Endpoints { get; }

    public ResourceStore<Corev1Event> Events { get; }

    public ResourceStore<V1EndpointSlice> EndpointSlices { get; }

    public ResourceStore<V1Pod> Pods { get; }

    public ResourceStore<V1Node> Nodes { get; }

    public ResourceStore<V1ServiceAccount> ServiceAccounts { get; }

    public ResourceStore<V1Secret> Secrets { get; }

    public ResourceStore<V1Role> Roles { get; }

    public ResourceStore<V1ClusterRole> ClusterRoles { get; }

    public ResourceStore<V1RoleBinding> RoleBindings { get; }

    public ResourceStore<V1ClusterRoleBinding> ClusterRoleBindings { get; }

    public ResourceStore<V1PodDisruptionBudget> DisruptionBudgets { get; }

    private ResourceStore<T> Serve<T>(RegistryContext context, ResourceKind<T> kind)
        where T : class, IKubernetesObject<V1ObjectMeta>, new()
    {
        var store = new ResourceStore<T>(kind, context);
        _handlers.Add(new ResourceHandler<T>(store, context));
        return store;
    }
}
