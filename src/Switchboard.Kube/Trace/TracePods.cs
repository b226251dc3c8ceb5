using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Switchboard.Kube.Trace;

/// <summary>
/// Names the pods behind the client addresses of trace events, from the API's pod list: an address not known yet
/// (a pod newer than the list) lists the pods again, at most once per <see cref="Refresh"/>.
/// </summary>
public sealed class TracePods(IKubernetes client, TimeProvider time)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(2);
    private static readonly string[] Ends = ["client", "endpoint"];

    private Dictionary<string, (string Namespace, string Name)> _byIp = new(StringComparer.Ordinal);
    private DateTimeOffset _listed = DateTimeOffset.MinValue;

    /// <summary>
    /// Adds <c>pod</c> (<c>{"namespace","name"}</c>) to an event's <c>client</c> and, for a connection, its <c>endpoint</c>,
    /// when the address is a pod's.
    /// </summary>
    public async Task AnnotateAsync(JsonObject e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        foreach (string end in Ends)
        {
            if (e[end] is not JsonObject address || (string?)address["ip"] is not { } ip)
            {
                continue;
            }

            if (!_byIp.ContainsKey(ip) && time.GetUtcNow() - _listed >= Refresh)
            {
                await ListAsync(cancellationToken);
            }

            if (_byIp.TryGetValue(ip, out var pod))
            {
                address["pod"] = new JsonObject { ["namespace"] = pod.Namespace, ["name"] = pod.Name };
            }
        }
    }

    private async Task ListAsync(CancellationToken cancellationToken)
    {
        V1PodList pods = await client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: cancellationToken);
        var byIp = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (V1Pod pod in pods.Items.Where(p => p.Spec?.HostNetwork != true))
        {
            foreach (string ip in (pod.Status?.PodIPs ?? []).Select(p => p.Ip).Append(pod.Status?.PodIP).OfType<string>())
            {
                byIp[ip] = (pod.Metadata.NamespaceProperty, pod.Metadata.Name);
            }
        }

        _byIp = byIp;
        _listed = time.GetUtcNow();
    }
}
