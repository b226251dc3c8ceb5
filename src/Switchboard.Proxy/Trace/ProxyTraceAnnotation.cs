using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Kube.Trace;

namespace Switchboard.Proxy.Trace;

/// <summary>
/// How <c>switchboard trace</c> finds each node's proxy: the proxy writes the port of its <c>/trace</c> on its own Node,
/// and the CLI asks the API server for <c>nodes/NODE:PORT/proxy/trace</c> (kube-apiserver's node proxy to a port of the
/// node's address), one stream per node. kube-proxy's metrics port is not in the Node's status, so the proxy says it.
/// </summary>
public static class ProxyTraceAnnotation
{
    public const string Key = TraceSource.ProxyPortAnnotation;

    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    /// <summary>Writes <paramref name="port"/> on Node <paramref name="node"/>, waiting for the node agent to register it.</summary>
    public static async Task PublishAsync(IKubernetes client, string node, int port, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        string patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [Key] = port.ToString(CultureInfo.InvariantCulture) } } }.ToJsonString();
        while (true)
        {
            try
            {
                await client.CoreV1.PatchNodeAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), node, cancellationToken: cancellationToken);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                await Task.Delay(Retry, time, cancellationToken);
            }
        }
    }
}
