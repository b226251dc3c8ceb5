using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Endpoints;

/// <summary>
/// Keeps the Endpoints object of every service with a selector equal to its pods: ready pods as addresses, the others
/// as notReadyAddresses (all as addresses with publishNotReadyAddresses), grouped into subsets by port set, with
/// targetRef, nodeName and, for a matching subdomain, hostname; at most 1000 addresses (over-capacity: truncated) and the
/// last-change-trigger-time annotation, as upstream. Selector-less services are left to their users.
/// </summary>
internal sealed class EndpointsController : QueueController
{
    private readonly TriggerTimeTracker _triggers = new();
    private readonly OwnWrites<V1Endpoints> _written;

    public EndpointsController(ControllerContext context, EndpointTriggers triggers)
        : base(context, "endpoints")
    {
        _written = new OwnWrites<V1Endpoints>(context.Informers.Endpoints);
        triggers.Subscribe(Queue.Add);
        context.Informers.Endpoints.AddHandler(onUpdate: (_, e) => Queue.Add(ObjectKey.Of(e)), onDelete: e => Queue.Add(ObjectKey.Of(e)));
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var service = Context.Informers.Services.Cache.Get(key);
        var current = _written.Get(key);
        if (service is null)
        {
            _triggers.Forget(key);
            if (current is not null && Context.Informers.Services.HasSynced)
            {
                await DeleteAsync(ns!, name, cancellationToken);
            }

            return;
        }

        if (!ServicePods.HasSelector(service))
        {
            return;
        }

        var pods = ServicePods.Selected(Context.Informers, service).ToList();
        var subsets = Subsets(service, pods);
        bool truncated = EndpointsTruncation.Truncate(subsets);
        var triggered = _triggers.Compute(key, service, pods);
        var desired = new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = ServicePods.Labels(service) },
            Subsets = subsets,
        };
        bool wasTruncated = current?.Metadata.Annotations?.TryGetValue(EndpointsTruncation.Annotation, out string? capacity) == true && capacity == EndpointsTruncation.Truncated;
        if (current is not null && truncated == wasTruncated && ModelJson.SameContent(current.Subsets ?? [], desired.Subsets)
            && ModelJson.SameContent(current.Metadata.Labels ?? new Dictionary<string, string>(), desired.Metadata.Labels))
        {
            return;
        }

        var annotations = new Dictionary<string, string>(current?.Metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        Set(annotations, TriggerTimeTracker.Annotation, triggered is { } at ? TriggerTimeTracker.Format(at) : null);
        Set(annotations, EndpointsTruncation.Annotation, truncated ? EndpointsTruncation.Truncated : null);
        desired.Metadata.Annotations = annotations.Count == 0 ? null : annotations;
        if (current is null)
        {
            try
            {
                await _written.WriteAsync(desired, () => Context.Client.CoreV1.CreateNamespacedEndpointsAsync(desired, ns, cancellationToken: cancellationToken));
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // Someone else made it and the cache has not shown it yet: replace what is there.
                var existing = await Context.Client.CoreV1.ReadNamespacedEndpointsAsync(name, ns, cancellationToken: cancellationToken);
                desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
                await _written.WriteAsync(desired, () => Context.Client.CoreV1.ReplaceNamespacedEndpointsAsync(desired, name, ns, cancellationToken: cancellationToken));
            }

            return;
        }

        desired.Metadata.ResourceVersion = current.Metadata.ResourceVersion;
        await _written.WriteAsync(desired, () => Context.Client.CoreV1.ReplaceNamespacedEndpointsAsync(desired, name, ns, cancellationToken: cancellationToken));
    }

    private static void Set(Dictionary<string, string> annotations, string key, string? value)
    {
        if (value is null)
        {
            annotations.Remove(key);
        }
        else
        {
            annotations[key] = value;
        }
    }

    private static List<V1EndpointSubset> Subsets(V1Service service, List<V1Pod> pods)
    {
        bool publishNotReady = service.Spec.PublishNotReadyAddresses == true;
        var groups = new Dictionary<string, (List<ServicePods.Port> Ports, List<V1EndpointAddress> Ready, List<V1EndpointAddress> NotReady)>(StringComparer.Ordinal);
        bool headlessWithoutPorts = (service.Spec.Ports?.Count ?? 0) == 0 && ServicePods.IsHeadless(service);
        foreach (var pod in pods)
        {
            if (!ServicePods.Include(pod, publishNotReady))
            {
                continue;
            }

            var ports = ServicePods.Ports(service, pod);
            if (ports.Count == 0 && !headlessWithoutPorts)
            {
                continue;
            }

            var address = new V1EndpointAddress
            {
                Ip = pod.Status.PodIP,
                NodeName = string.IsNullOrEmpty(pod.Spec.NodeName) ? null : pod.Spec.NodeName,
                Hostname = ServicePods.Hostname(service, pod),
                TargetRef = ServicePods.TargetRef(pod),
            };
            string portsKey = ServicePods.PortsKey(ports);
            if (!groups.TryGetValue(portsKey, out var group))
            {
                groups[portsKey] = group = (ports, [], []);
            }

            (publishNotReady || Objects.IsReady(pod) ? group.Ready : group.NotReady).Add(address);
        }

        return [.. groups.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new V1EndpointSubset
        {
            Addresses = g.Value.Ready.Count == 0 ? null : [.. g.Value.Ready.OrderBy(a => a.Ip, StringComparer.Ordinal)],
            NotReadyAddresses = g.Value.NotReady.Count == 0 ? null : [.. g.Value.NotReady.OrderBy(a => a.Ip, StringComparer.Ordinal)],
            Ports = g.Value.Ports.Count == 0 ? null : [.. g.Value.Ports.Select(p => new Corev1EndpointPort { Name = string.IsNullOrEmpty(p.Name) ? null : p.Name, Port = p.Number, Protocol = p.Protocol, AppProtocol = p.AppProtocol })],
        })];
    }

    private async Task DeleteAsync(string ns, string name, CancellationToken cancellationToken)
    {
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.CoreV1.DeleteNamespacedEndpointsAsync(name, ns, cancellationToken: cancellationToken));

        _written.Deleted(ObjectKey.Of(ns, name));
    }
}
