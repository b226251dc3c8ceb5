using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Selectors;

namespace Switchboard.Controllers.Endpoints;

/// <summary>What the Endpoints and EndpointSlice controllers share: which pods a service selects and on which ports.</summary>
internal static class ServicePods
{
    /// <summary>A resolved endpoint port: the service port's name and protocol, the pod's port number.</summary>
    public sealed record Port(string? Name, int Number, string Protocol, string? AppProtocol);

    /// <summary>A port set as a string, equal for equal sets whatever their order (no field holds ';'; appProtocol, which may hold '/', comes last).</summary>
    public static string PortsKey(IEnumerable<Port> ports) =>
        string.Join(';', ports.Select(p => $"{p.Name}/{p.Number}/{p.Protocol}/{p.AppProtocol}").Order(StringComparer.Ordinal));

    /// <summary>Pods a service selects, found through the label index by one of the selector's pairs.</summary>
    public static IEnumerable<V1Pod> Selected(SharedInformers informers, V1Service service)
    {
        var selector = service.Spec.Selector;
        if (selector is not { Count: > 0 })
        {
            return [];
        }

        var (key, value) = selector.First();
        return informers.Pods.Cache.ByIndex(SharedInformers.LabelIndex, LabelSets.IndexValue(key, value))
            .Where(p => p.Metadata.NamespaceProperty == service.Metadata.NamespaceProperty && LabelSelector.MatchesNonEmpty(selector, p.Metadata.Labels))
            .OrderBy(p => p.Metadata.Name, StringComparer.Ordinal);
    }

    /// <summary>Services that manage endpoints: those with a selector (the others belong to their users).</summary>
    public static bool HasSelector(V1Service service) => service.Spec?.Selector is { Count: > 0 };

    /// <summary>upstream ShouldPodBeInEndpoints: not finished, has an IP, and (unless wanted) not being deleted.</summary>
    public static bool Include(V1Pod pod, bool includeTerminating) =>
        !Objects.IsTerminal(pod) && !string.IsNullOrEmpty(pod.Status?.PodIP) && (includeTerminating || pod.Metadata.DeletionTimestamp is null);

    /// <summary>The service's ports as this pod serves them; a named targetPort the pod lacks leaves that port out.</summary>
    public static List<Port> Ports(V1Service service, V1Pod pod)
    {
        var ports = new List<Port>();
        foreach (var sp in service.Spec.Ports ?? [])
        {
            string protocol = sp.Protocol ?? "TCP";
            string? target = sp.TargetPort?.Value;
            int number;
            if (string.IsNullOrEmpty(target))
            {
                number = sp.Port;
            }
            else if (int.TryParse(target, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n))
            {
                number = n;
            }
            else
            {
                var match = pod.Spec?.Containers?.SelectMany(c => c.Ports ?? []).FirstOrDefault(p => p.Name == target && (p.Protocol ?? "TCP") == protocol);
                if (match is null)
                {
                    continue;
                }

                number = match.ContainerPort;
            }

            ports.Add(new Port(sp.Name, number, protocol, sp.AppProtocol));
        }

        return ports;
    }

    /// <summary>Whether the pod is addressed by name in a headless service: spec.hostname set and spec.subdomain the service.</summary>
    public static string? Hostname(V1Service service, V1Pod pod) =>
        !string.IsNullOrEmpty(pod.Spec?.Hostname) && pod.Spec.Subdomain == service.Metadata.Name ? pod.Spec.Hostname : null;

    public static V1ObjectReference TargetRef(V1Pod pod) => new()
    {
        Kind = "Pod",
        NamespaceProperty = pod.Metadata.NamespaceProperty,
        Name = pod.Metadata.Name,
        Uid = pod.Metadata.Uid,
    };

    public static bool IsHeadless(V1Service service) => service.Spec?.ClusterIP == "None";

    /// <summary>The service's labels plus, for a headless service, the headless marker (upstream copies them).</summary>
    public static Dictionary<string, string> Labels(V1Service service)
    {
        var labels = new Dictionary<string, string>(service.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        if (IsHeadless(service))
        {
            labels["service.kubernetes.io/headless"] = "";
        }

        return labels;
    }
}
