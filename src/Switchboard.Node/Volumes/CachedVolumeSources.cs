using k8s.Models;
using Switchboard.Kube.Informers;

namespace Switchboard.Node.Volumes;

/// <summary>
/// ConfigMaps and Secrets from the node's informers (kubelet's watch-based managers): changes arrive as they happen;
/// tokens from the node's token manager.
/// </summary>
internal sealed class CachedVolumeSources(InformerCache<V1ConfigMap> configMaps, InformerCache<V1Secret> secrets, TokenManager tokens) : IVolumeSources
{
    public V1ConfigMap? ConfigMap(string ns, string name) => configMaps.Get(ns, name);

    public V1Secret? Secret(string ns, string name) => secrets.Get(ns, name);

    public Task<string> ServiceAccountTokenAsync(V1Pod pod, V1ServiceAccountTokenProjection projection, CancellationToken cancellationToken) =>
        tokens.GetAsync(pod, projection, cancellationToken);
}
