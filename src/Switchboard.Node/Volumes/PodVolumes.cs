using System.Globalization;
using k8s.Models;
using Switchboard.Node.Runtime;
using Switchboard.Node.Sandbox;

namespace Switchboard.Node.Volumes;

/// <summary>
/// Kubelet's volume manager for one node: a pod's volumes are resolved before its sandbox is made (a missing configMap
/// or secret, or a failed hostPath check, keeps it waiting), then set up under the pod's directory and rewritten
/// atomically on every sync, so changes of the objects (or of the pod's labels) reach the files. Containers bind them.
/// </summary>
internal sealed class PodVolumes(IVolumeSources sources, TimeProvider time)
{
    private static readonly UnixFileMode Open = (UnixFileMode)0b111_111_111;

    /// <summary>What each volume of <paramref name="pod"/> holds now; throws <see cref="VolumeException"/> for the first that cannot be set up.</summary>
    public async Task<IReadOnlyList<ResolvedVolume>> ResolveAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var resolved = new List<ResolvedVolume>();
        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            try
            {
                resolved.Add(volume.HostPath is { } host
                    ? new ResolvedVolume(volume.Name, "kubernetes.io~host-path", false, null, await HostPaths.CheckAsync(host.Path, host.Type ?? "", cancellationToken), null)
                    : Resolve(pod, volume, await TokensAsync(pod, volume, cancellationToken)));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw new VolumeException(volume.Name, e.Message);
            }
            catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException)
            {
                throw new VolumeException(volume.Name, "failed to fetch token: " + TokenError(e));
            }
        }

        return resolved;
    }

    /// <summary>Creates the volumes' directories (tmpfs ones mounted in the holder's namespace) and writes their files; true if any file changed.</summary>
    public async Task<bool> SetUpAsync(PodSandbox sandbox, int holderPid, V1Pod pod, IReadOnlyList<ResolvedVolume> volumes)
    {
        long? fsGroup = pod.Spec.SecurityContext?.FsGroup;
        bool changed = false;
        foreach (var volume in volumes.Where(v => v.HostPath is null))
        {
            try
            {
                string dir = Directory(sandbox, volume);
                string seen = $"/proc/{holderPid}/root{dir}";
                if (!System.IO.Directory.Exists(dir))
                {
                    FileCalls.CreateDirectory(dir, Open);
                }

                if (volume.Memory && !IsMountPoint(holderPid, dir))
                {
                    string options = volume.SizeLimit is { } size ? "size=" + size : "mode=1777";
                    await SandboxNamespaces.MountTmpfsAsync(holderPid, dir, options);
                    if (volume.Files is null && fsGroup is { } group)
                    {
                        Ownership.Apply(seen, group, readOnly: false);
                    }
                }
                else if (volume.Files is null && fsGroup is { } group && new DirectoryInfo(seen).UnixFileMode.HasFlag(UnixFileMode.SetGroup) is false)
                {
                    Ownership.Apply(seen, group, readOnly: false);
                }

                if (volume.Files is { } files)
                {
                    changed |= new AtomicWriter(seen, time).Write(files, fsGroup);
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                throw new VolumeException(volume.Name, e.Message);
            }
        }

        return changed;
    }

    /// <summary>
    /// The binds of <paramref name="container"/>'s volumeMounts: sources as the holder sees them (a subPath inside its
    /// volume, created if missing, as kubelet does), targets inside the pod's root.
    /// </summary>
    public static IReadOnlyList<ContainerMount> Mounts(PodSandbox sandbox, int holderPid, V1Container container, IReadOnlyList<ResolvedVolume> volumes, Func<string, string?> env)
    {
        var mounts = new List<ContainerMount>();
        foreach (var mount in container.VolumeMounts ?? [])
        {
            var volume = volumes.FirstOrDefault(v => v.Name == mount.Name)
                ?? throw new VolumeException(mount.Name, $"volume \"{mount.Name}\" of container \"{container.Name}\" is not a volume of the pod");
            string source = volume.HostPath ?? Directory(sandbox, volume);
            string subPath = !string.IsNullOrEmpty(mount.SubPathExpr) ? Kubelet.EnvExpansion.Expand(mount.SubPathExpr, env) : mount.SubPath ?? "";
            if (subPath.Length > 0)
            {
                if (subPath.StartsWith('/') || subPath.Split('/').Contains(".."))
                {
                    throw new VolumeException(mount.Name, $"subPath \"{subPath}\" must be a relative path without '..'");
                }

                source = Path.Combine(source, subPath);
                string seen = volume.HostPath is null ? $"/proc/{holderPid}/root{source}" : source;
                if (!volume.ReadOnly && !Path.Exists(seen))
                {
                    System.IO.Directory.CreateDirectory(seen);
                }
            }

            mounts.Add(new ContainerMount(source, mount.MountPath, volume.ReadOnly || mount.ReadOnlyProperty == true));
        }

        return mounts;
    }

    /// <summary>Whether a change of the <paramref name="kind"/> (ConfigMap or Secret) named <paramref name="name"/> concerns a volume of <paramref name="pod"/>.</summary>
    public static bool Uses(V1Pod pod, string kind, string name) => (pod.Spec.Volumes ?? []).Any(v => kind == "ConfigMap"
        ? v.ConfigMap?.Name == name || v.Projected?.Sources?.Any(s => s.ConfigMap?.Name == name) == true
        : v.Secret?.SecretName == name || v.Projected?.Sources?.Any(s => s.Secret?.Name == name) == true);

    /// <summary>The tokens of a projected volume's serviceAccountToken sources, asked for before its files are made.</summary>
    private async Task<Dictionary<V1ServiceAccountTokenProjection, string>> TokensAsync(V1Pod pod, V1Volume volume, CancellationToken cancellationToken)
    {
        var tokens = new Dictionary<V1ServiceAccountTokenProjection, string>(ReferenceEqualityComparer.Instance);
        foreach (var projection in volume.Projected?.Sources?.Select(s => s.ServiceAccountToken).OfType<V1ServiceAccountTokenProjection>() ?? [])
        {
            tokens[projection] = await sources.ServiceAccountTokenAsync(pod, projection, cancellationToken);
        }

        return tokens;
    }

    /// <summary>The API's message of a refused TokenRequest (its Status), else the transport's.</summary>
    private static string TokenError(Exception e) =>
        e is k8s.Autorest.HttpOperationException { Response.Content: { Length: > 0 } content } && System.Text.Json.Nodes.JsonNode.Parse(content)?["message"]?.ToString() is { } message
            ? message
            : e.Message;

    private ResolvedVolume Resolve(V1Pod pod, V1Volume volume, IReadOnlyDictionary<V1ServiceAccountTokenProjection, string> tokens)
    {
        if (volume.EmptyDir is { } empty)
        {
            return new ResolvedVolume(volume.Name, "kubernetes.io~empty-dir", empty.Medium == "Memory", SizeLimit(empty.SizeLimit), null, null);
        }

        // Secrets, downward API and projected volumes live on tmpfs, as kubelet's: never written to the node's disk.
        return volume.ConfigMap is { } cm ? new ResolvedVolume(volume.Name, "kubernetes.io~configmap", false, null, null, Projections.ConfigMap(pod, sources, cm))
            : volume.Secret is { } secret ? new ResolvedVolume(volume.Name, "kubernetes.io~secret", true, null, null, Projections.Secret(pod, sources, secret))
            : volume.DownwardAPI is { } downward ? new ResolvedVolume(volume.Name, "kubernetes.io~downward-api", true, null, null, Projections.DownwardApi(pod, downward.Items, downward.DefaultMode))
            : volume.Projected is { } projected ? new ResolvedVolume(volume.Name, "kubernetes.io~projected", true, null, null, Projections.Projected(pod, sources, projected, tokens))
            : throw new InvalidDataException("this node serves emptyDir, hostPath, configMap, secret, downwardAPI and projected volumes only");
    }

    /// <summary>A sizeLimit as tmpfs takes it: bytes.</summary>
    private static string? SizeLimit(ResourceQuantity? limit) =>
        limit is null ? null : decimal.Ceiling(limit.ToDecimal()).ToString(CultureInfo.InvariantCulture);

    /// <summary>A volume's directory; a tmpfs-backed one's mount point is with the pod's runtime state, as it keeps nothing on disk.</summary>
    private static string Directory(PodSandbox sandbox, ResolvedVolume volume) =>
        Path.Combine(volume.Memory ? sandbox.MemoryVolumesDirectory : sandbox.VolumesDirectory, volume.Plugin, volume.Name);

    /// <summary>Whether <paramref name="path"/> is a mount point in the holder's namespace (its mountinfo's fifth field).</summary>
    private static bool IsMountPoint(int holderPid, string path) =>
        File.ReadLines($"/proc/{holderPid}/mountinfo").Any(line => line.Split(' ')[4] == path);
}
