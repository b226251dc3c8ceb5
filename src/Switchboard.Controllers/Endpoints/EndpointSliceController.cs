using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Endpoints;

/// <summary>
/// Keeps the EndpointSlices of every service with a selector equal to its pods: one endpoint per pod with an IP
/// (conditions ready/serving/terminating as upstream), grouped by address family and port set, at most
/// <see cref="ControllerOptions.MaxEndpointsPerSlice"/> per slice. An endpoint stays in the slice it is in, new ones fill
/// slices with room before a slice is added, so one pod changing rewrites one slice. A slice written carries the
/// last-change-trigger-time annotation.
/// </summary>
internal sealed class EndpointSliceController : QueueController
{
    public const string ManagedBy = "endpointslice-controller.k8s.io";
    public const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    private readonly TriggerTimeTracker _triggers = new();
    private readonly OwnWrites<V1EndpointSlice> _written;

    public EndpointSliceController(ControllerContext context, EndpointTriggers triggers)
        : base(context, "endpointslice")
    {
        _written = new OwnWrites<V1EndpointSlice>(context.Informers.EndpointSlices);
        triggers.Subscribe(Queue.Add);
        void Slice(V1EndpointSlice slice)
        {
            if (IsManaged(slice) && SharedInformers.ServiceKeyOf(slice) is { } service)
            {
                Queue.Add(service);
            }
        }

        context.Informers.EndpointSlices.AddHandler(Slice, (_, s) => Slice(s), Slice);
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, _) = ObjectKey.Split(key);
        var service = Context.Informers.Services.Cache.Get(key);
        var existing = _written.Overlay(Context.Informers.EndpointSlices.Cache.ByIndex(SharedInformers.ServiceIndex, key), s => SharedInformers.ServiceKeyOf(s) == key)
            .Where(IsManaged).OrderBy(s => s.Metadata.Name, StringComparer.Ordinal).ToList();
        if (service is null || !ServicePods.HasSelector(service))
        {
            _triggers.Forget(key);
            if (service is null && Context.Informers.Services.HasSynced)
            {
                foreach (var slice in existing)
                {
                    await DeleteAsync(slice, cancellationToken);
                }
            }

            return;
        }

        var pods = ServicePods.Selected(Context.Informers, service).ToList();
        var desired = DesiredGroups(service, pods);
        var triggered = _triggers.Compute(key, service, pods);
        var plan = new List<(V1EndpointSlice Slice, bool IsNew)>();
        var unused = new List<V1EndpointSlice>(existing);
        foreach (var ((addressType, portsKey), (ports, endpoints)) in desired)
        {
            var mine = unused.Where(s => s.AddressType == addressType && PortsKey(s.Ports) == portsKey).ToList();
            unused.RemoveAll(mine.Contains);
            plan.AddRange(Place(service, addressType, ports, endpoints, mine));
        }

        Recycle(plan, unused);
        foreach (var (slice, isNew) in plan)
        {
            if (isNew)
            {
                SetTriggerTime(slice, triggered);
                await _written.WriteAsync(slice, () => Context.Client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(slice, ns, cancellationToken: cancellationToken));
            }
            else if (slice.Endpoints.Count == 0 && plan.Count > 1)
            {
                await DeleteAsync(slice, cancellationToken);
            }
            else if (existing.FirstOrDefault(s => s.Metadata.Name == slice.Metadata.Name) is not { } before || !SameSlice(before, slice))
            {
                SetTriggerTime(slice, triggered);
                await _written.WriteAsync(slice, () => Context.Client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(slice, slice.Metadata.Name, ns, cancellationToken: cancellationToken));
            }
        }

        foreach (var slice in unused)
        {
            await DeleteAsync(slice, cancellationToken);
        }
    }

    /// <summary>
    /// Turns a new slice and one no longer wanted of the same address type into an update of the old one, as upstream's
    /// reconciler does: the placeholder of a service without endpoints becomes its first real slice in one write,
    /// instead of a create and a delete (and two more events for every watcher).
    /// </summary>
    private static void Recycle(List<(V1EndpointSlice Slice, bool IsNew)> plan, List<V1EndpointSlice> unused)
    {
        for (int i = 0; i < plan.Count; i++)
        {
            var (slice, isNew) = plan[i];
            if (isNew && unused.FirstOrDefault(old => old.AddressType == slice.AddressType) is { } old)
            {
                unused.Remove(old);
                slice.Metadata.Name = old.Metadata.Name;
                slice.Metadata.GenerateName = null;
                slice.Metadata.ResourceVersion = old.Metadata.ResourceVersion;
                plan[i] = (slice, false);
            }
        }
    }

    /// <summary>
    /// Fills the group's slices: endpoints already in a slice stay there (updated), the rest go to slices with room,
    /// then to new slices. A group with no endpoints at all keeps one empty slice, as upstream's placeholder.
    /// </summary>
    private IEnumerable<(V1EndpointSlice Slice, bool IsNew)> Place(V1Service service, string addressType, List<ServicePods.Port> ports, Dictionary<string, V1Endpoint> endpoints, List<V1EndpointSlice> slices)
    {
        int max = Context.Options.MaxEndpointsPerSlice;
        var remaining = new Dictionary<string, V1Endpoint>(endpoints, StringComparer.Ordinal);
        var result = new List<(V1EndpointSlice Slice, bool IsNew)>();
        foreach (var slice in slices)
        {
            var updated = ModelJson.Clone(slice);
            updated.Endpoints = [];
            foreach (var endpoint in slice.Endpoints ?? [])
            {
                string address = endpoint.Addresses.FirstOrDefault() ?? "";
                if (updated.Endpoints.Count < max && remaining.Remove(address, out var wanted))
                {
                    updated.Endpoints.Add(wanted);
                }
            }

            result.Add((Stamp(service, updated, ports), false));
        }

        foreach (var (slice, _) in result)
        {
            while (slice.Endpoints.Count < max && remaining.Count > 0)
            {
                var next = remaining.First();
                remaining.Remove(next.Key);
                slice.Endpoints.Add(next.Value);
            }
        }

        foreach (var chunk in remaining.Values.Chunk(max))
        {
            result.Add((NewSlice(service, addressType, ports, [.. chunk]), true));
        }

        if (result.Count == 0)
        {
            result.Add((NewSlice(service, addressType, ports, []), true));
        }

        return result;
    }

    /// <summary>A slice being written carries the sync's last-change-trigger-time, or none when nothing new triggered it.</summary>
    private static void SetTriggerTime(V1EndpointSlice slice, DateTime? triggered)
    {
        var annotations = new Dictionary<string, string>(slice.Metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        if (triggered is { } at)
        {
            annotations[TriggerTimeTracker.Annotation] = TriggerTimeTracker.Format(at);
        }
        else
        {
            annotations.Remove(TriggerTimeTracker.Annotation);
        }

        slice.Metadata.Annotations = annotations.Count == 0 ? null : annotations;
    }

    private static Dictionary<(string AddressType, string PortsKey), (List<ServicePods.Port> Ports, Dictionary<string, V1Endpoint> Endpoints)> DesiredGroups(V1Service service, List<V1Pod> pods)
    {
        var groups = new Dictionary<(string, string), (List<ServicePods.Port>, Dictionary<string, V1Endpoint>)>();
        bool publishNotReady = service.Spec.PublishNotReadyAddresses == true;
        foreach (var pod in pods)
        {
            if (!ServicePods.Include(pod, includeTerminating: true))
            {
                continue;
            }

            var ports = ServicePods.Ports(service, pod);
            string addressType = IPAddress.TryParse(pod.Status.PodIP, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
            var key = (addressType, ServicePods.PortsKey(ports));
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = (ports, new Dictionary<string, V1Endpoint>(StringComparer.Ordinal));
            }

            bool serving = Objects.IsReady(pod);
            bool terminating = pod.Metadata.DeletionTimestamp is not null;
            group.Item2[pod.Status.PodIP] = new V1Endpoint
            {
                Addresses = [pod.Status.PodIP],
                Conditions = new V1EndpointConditions { Ready = publishNotReady || (serving && !terminating), Serving = serving, Terminating = terminating },
                Hostname = ServicePods.Hostname(service, pod),
                NodeName = string.IsNullOrEmpty(pod.Spec.NodeName) ? null : pod.Spec.NodeName,
                TargetRef = ServicePods.TargetRef(pod),
            };
        }

        if (groups.Count == 0)
        {
            groups[("IPv4", PortsKey(null))] = ([], new Dictionary<string, V1Endpoint>(StringComparer.Ordinal));
        }

        return groups;
    }

    private V1EndpointSlice NewSlice(V1Service service, string addressType, List<ServicePods.Port> ports, List<V1Endpoint> endpoints) => Stamp(service, new V1EndpointSlice
    {
        Metadata = new V1ObjectMeta
        {
            GenerateName = service.Metadata.Name + "-",
            NamespaceProperty = service.Metadata.NamespaceProperty,
            OwnerReferences = [Objects.ControllerReference(service, "v1", "Service")],
        },
        AddressType = addressType,
        Endpoints = endpoints,
    }, ports);

    /// <summary>Sets what every managed slice of the service carries: labels, ports.</summary>
    private static V1EndpointSlice Stamp(V1Service service, V1EndpointSlice slice, List<ServicePods.Port> ports)
    {
        var labels = ServicePods.Labels(service);
        labels[SharedInformers.ServiceNameLabel] = service.Metadata.Name;
        labels[ManagedByLabel] = ManagedBy;
        slice.Metadata.Labels = labels;
        slice.Ports = ToSlicePorts(ports);
        return slice;
    }

    private static List<Discoveryv1EndpointPort>? ToSlicePorts(List<ServicePods.Port> ports) =>
        ports.Count == 0 ? null : [.. ports.Select(p => new Discoveryv1EndpointPort { Name = p.Name ?? "", Port = p.Number, Protocol = p.Protocol, AppProtocol = p.AppProtocol })];

    private static string PortsKey(IList<Discoveryv1EndpointPort>? ports) =>
        ServicePods.PortsKey((ports ?? []).Select(p => new ServicePods.Port(p.Name, p.Port ?? 0, p.Protocol ?? "TCP", p.AppProtocol)));

    private static bool SameSlice(V1EndpointSlice a, V1EndpointSlice b) =>
        ModelJson.SameContent(a.Endpoints ?? [], b.Endpoints ?? []) && PortsKey(a.Ports) == PortsKey(b.Ports)
        && ModelJson.SameContent(a.Metadata.Labels ?? new Dictionary<string, string>(), b.Metadata.Labels ?? new Dictionary<string, string>());

    private static bool IsManaged(V1EndpointSlice slice) => slice.Metadata.Labels?.TryGetValue(ManagedByLabel, out string? by) == true && by == ManagedBy;

    private async Task DeleteAsync(V1EndpointSlice slice, CancellationToken cancellationToken)
    {
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.DiscoveryV1.DeleteNamespacedEndpointSliceAsync(slice.Metadata.Name, slice.Metadata.NamespaceProperty, cancellationToken: cancellationToken));

        _written.Deleted(ObjectKey.Of(slice));
    }
}
