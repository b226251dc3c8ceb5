using k8s;
using Switchboard.Kube.Informers;

namespace Switchboard.Kube.Client;

/// <summary>
/// The API client the components of one process share, made on first use: in <c>switchboard up</c> the API server
/// writes the kubeconfig the client is built from only once it serves, after the components were created. The
/// components that share the client share their informers too (<see cref="Informers"/>).
/// </summary>
public sealed class KubeClientSource(Func<IKubernetes> create) : IDisposable
{
    private readonly Lazy<IKubernetes> _client = new(create);

    public IKubernetes Client => _client.Value;

    /// <summary>One informer per collection for the components using this client.</summary>
    public SharedInformerSet Informers { get; } = new();

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }
}
