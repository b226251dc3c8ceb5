using k8s.Models;
using Switchboard.Kube.Informers;

namespace Switchboard.Node.Volumes;

/// <summary>ConfigMaps and Secrets from the node's informers (kubelet's watch-based managers): changes arrive as they happen.</summary>
internal sealed class CachedVolumeSources(InformerCache<V1ConfigMap> configMaps, InformerCache<V1Secret> secrets) : IVolumeSources
{
    public V1ConfigMap? ConfigMap(string ns, string name) => configMaps.Get(ns, name);

    public V1Secret? Secret(string ns, string name) => secrets.Get(ns, name);
}
