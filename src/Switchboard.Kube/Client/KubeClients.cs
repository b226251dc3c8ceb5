using k8s;

namespace Switchboard.Kube.Client;

/// <summary>Builds clients of the Kubernetes API: from a kubeconfig file, as every component outside the API server does.</summary>
public static class KubeClients
{
    /// <summary>A client for the current context of <paramref name="kubeconfigPath"/>.</summary>
    public static IKubernetes FromKubeconfig(string kubeconfigPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(kubeconfigPath);
        return FromKubeconfig(KubeconfigLoader.Load(kubeconfigPath));
    }

    /// <summary>A client for a kubeconfig already read.</summary>
    public static Kubernetes FromKubeconfig(KubernetesClientConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);

        // Watches are long-lived; per-request deadlines come from cancellation tokens instead.
        config.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        return new Kubernetes(config);
    }
}
