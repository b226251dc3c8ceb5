using System.Text.Json.Nodes;

namespace Switchboard.Kube.Trace;

/// <summary>
/// Which trace events <c>switchboard trace</c> prints, as <c>hubble observe</c>'s flags choose flows. Every set field must
/// match. Namespace, pod and service match either end of an event: the client pod, the endpoint pod a connection went to,
/// the service a connection dialled or a DNS name asks for.
/// </summary>
public sealed record TraceFilter
{
    public string? Namespace { get; init; }

    /// <summary>A pod name, or <c>NAMESPACE/NAME</c>.</summary>
    public string? Pod { get; init; }

    /// <summary>A service name, or <c>NAMESPACE/NAME</c>.</summary>
    public string? Service { get; init; }

    /// <summary><c>dns</c>, <c>tcp</c> or <c>udp</c> (DNS events match their transport too, as Hubble's L4 protocol).</summary>
    public string? Protocol { get; init; }

    /// <summary>Verdicts to keep (ANSWERED, NXDOMAIN, SERVFAIL, REFUSED, FORWARDED, REJECTED, TIMEOUT, …), any case; empty: all.</summary>
    public IReadOnlyList<string> Verdicts { get; init; } = [];

    /// <summary>Only events at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>The cluster domain names end with.</summary>
    public string ClusterDomain { get; init; } = "cluster.local";

    /// <summary>Whether <paramref name="e"/> (an event as <see cref="TracePods.AnnotateAsync"/> left it) is wanted; "lost" records always are.</summary>
    public bool Matches(JsonObject e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string? type = (string?)e["type"];
        if (type == "lost")
        {
            return true;
        }

        bool dns = type == "dns";
        if (!dns && type is not ("tcp" or "udp" or "sctp"))
        {
            return false;
        }

        // Either end: the client pod, or the endpoint pod a connection went to.
        (string? Namespace, string? Name)[] pods = [PodOf(e["client"]), PodOf(e["endpoint"])];
        (string Namespace, string Name)? service = dns
            ? ServiceOf((string?)e["name"])
            : e["service"] is JsonObject s && (string?)s["namespace"] is { } serviceNamespace && (string?)s["name"] is { } serviceName ? (serviceNamespace, serviceName) : null;
        if (Protocol is { } protocol && !(protocol == "dns" ? dns : string.Equals(protocol, dns ? (string?)e["transport"] : type, StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        if (Namespace is { } ns && !pods.Any(p => p.Namespace == ns) && service?.Namespace != ns)
        {
            return false;
        }

        if (Pod is { } pod && !(Split(pod, Namespace) is var (wantNamespace, wantName) && pods.Any(p => p.Name == wantName && (wantNamespace is null || wantNamespace == p.Namespace))))
        {
            return false;
        }

        if (Service is { } svc && !(Split(svc, Namespace) is var (svcNamespace, svcName) && service?.Name == svcName && (svcNamespace is null || svcNamespace == service?.Namespace)))
        {
            return false;
        }

        if (Verdicts.Count > 0 && !Verdicts.Contains((string?)e["verdict"] ?? "", StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        return Since is not { } since || (DateTimeOffset.TryParse((string?)e["time"], System.Globalization.CultureInfo.InvariantCulture, out DateTimeOffset time) && time >= since);
    }

    private static (string? Namespace, string? Name) PodOf(JsonNode? end) => ((string?)end?["pod"]?["namespace"], (string?)end?["pod"]?["name"]);

    /// <summary>The service a name asks for: <c>[_port._proto.]SVC.NS.svc.DOMAIN.</c> (or a pod under it).</summary>
    private (string Namespace, string Name)? ServiceOf(string? name)
    {
        string suffix = ".svc." + ClusterDomain.TrimEnd('.') + ".";
        if (name is null || !name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string[] labels = name[..^suffix.Length].ToLowerInvariant().Split('.');
        return labels.Length >= 2 ? (labels[^1], labels[^2]) : null;
    }

    private static (string? Namespace, string Name) Split(string value, string? defaultNamespace) =>
        value.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? (value[..slash], value[(slash + 1)..]) : (defaultNamespace, value);
}
