namespace Switchboard.Node.Volumes;

/// <summary>
/// A pod volume as the node will set it up: under <c>volumes/&lt;Plugin&gt;/&lt;Name&gt;</c> of the pod's directory (on
/// tmpfs when <paramref name="Memory"/>), holding <paramref name="Files"/> for the projected kinds; or a host path.
/// </summary>
internal sealed record ResolvedVolume(string Name, string Plugin, bool Memory, string? SizeLimit, string? HostPath, IReadOnlyDictionary<string, FileProjection>? Files)
{
    /// <summary>configMap, secret, downwardAPI and projected volumes are always mounted read-only (kubelet's ReadOnlyAPIDataVolumes).</summary>
    public bool ReadOnly => Files is not null;
}

/// <summary>A volume cannot be set up yet (event FailedMount; the pod waits in ContainerCreating).</summary>
internal sealed class VolumeException(string volume, string message) : Exception(message)
{
    public string Volume { get; } = volume;
}

/// <summary>
/// Where configMap and secret volumes read their objects (the node's informer caches): null when missing; and where
/// serviceAccountToken sources get their tokens (the node's <see cref="TokenManager"/>).
/// </summary>
internal interface IVolumeSources
{
    k8s.Models.V1ConfigMap? ConfigMap(string ns, string name);

    k8s.Models.V1Secret? Secret(string ns, string name);

    Task<string> ServiceAccountTokenAsync(k8s.Models.V1Pod pod, k8s.Models.V1ServiceAccountTokenProjection projection, CancellationToken cancellationToken);
}
