using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Switchboard.Node.Kubelet;

/// <summary>ConfigMaps and Secrets read from the API server when a container starts (null when missing).</summary>
internal sealed class ApiEnvSources(IKubernetes client) : IEnvSources
{
    public Task<V1ConfigMap?> ConfigMapAsync(string ns, string name, CancellationToken cancellationToken) =>
        OrNull(() => client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: cancellationToken));

    public Task<V1Secret?> SecretAsync(string ns, string name, CancellationToken cancellationToken) =>
        OrNull(() => client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken));

    private static async Task<T?> OrNull<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
