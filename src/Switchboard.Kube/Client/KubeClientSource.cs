using k8s;
using Switchboard.Kube.Informers;

namespace Switchboard.Kube.Client;

/// <summary>
/// The API client the components of one process share, made on first use: in <c>switchboard up</c> the API server
/// writes the kubeconfig the client is built from only once it serves, after the components were created. The
/// components that share the client share their informers too (<see cref="Informers"/>), and so may the clients of one
/// process (<paramref name="informers"/>): a component with an identity of its own still follows each collection
/// through the process's one informer.
/// </summary>
public sealed class KubeClientSource(Func<IKubernetes> create, SharedInformerSet? informers = null) : IDisposable
{
    private readonly Lazy<IKubernetes> _client = new(create);

    public IKubernetes Client => _client.Value;

    /// <summary>One informer per collection for the components using this client (and the others sharing the set).</summary>
    public SharedInformerSet Informers { get; } = informers ?? new();

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }
}
