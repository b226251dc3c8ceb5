using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// kube-apiserver's ServiceAccount admission plugin on a pod's create: a pod naming no service account runs as
/// <c>default</c>; the account must exist (the default one is waited for a little, as the service-account controller
/// makes it just after its namespace); unless automountServiceAccountToken says no (the pod's, else the account's), a
/// projected volume <c>kube-api-access-xxxxx</c> with a bound token, the cluster CA and the namespace is mounted
/// read-only at <see cref="MountPath"/> in every init and regular container without a mount there; an empty
/// imagePullSecrets takes the account's. Mirror pods are left alone.
/// </summary>
internal sealed class ServiceAccountAdmission(Func<string, string, CancellationToken, Task<V1ServiceAccount?>> lookUp, RegistryContext context)
{
    public const string DefaultName = "default";

    public const string MountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The prefix of the volume's name (upstream's ServiceAccountVolumeName).</summary>
    public const string VolumePrefix = "kube-api-access-";

    /// <summary>The ConfigMap the root-CA publisher keeps in every namespace.</summary>
    public const string RootCaConfigMap = "kube-root-ca.crt";

    /// <summary>
    /// The token's lifetime the plugin asks for: an hour and 7 s, upstream's WarnOnlyBoundTokenExpirationSeconds, which
    /// tells its tokens from ones a user asked for.
    /// </summary>
    public const long TokenExpirationSeconds = 3607;

    private const string MirrorPodAnnotation = "kubernetes.io/config.mirror";

    /// <summary>Tries at the default account before giving up, and the wait between them (upstream: 10, 100–200 ms).</summary>
    private const int DefaultAccountAttempts = 10;

    public async Task AdmitAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        if (pod.Metadata.Annotations?.ContainsKey(MirrorPodAnnotation) == true)
        {
            return;
        }

        pod.Spec.ServiceAccountName = string.IsNullOrEmpty(pod.Spec.ServiceAccountName) ? DefaultName : pod.Spec.ServiceAccountName;
        string ns = pod.Metadata.NamespaceProperty;
        string name = pod.Spec.ServiceAccountName;
        var account = await FindAsync(ns, name, cancellationToken)
            ?? throw ApiException.Forbidden("pods", pod.Metadata.Name ?? pod.Metadata.GenerateName ?? "", $"error looking up service account {ns}/{name}: serviceaccount \"{name}\" not found");

        if (pod.Spec.AutomountServiceAccountToken ?? account.AutomountServiceAccountToken ?? true)
        {
            Mount(pod.Spec);
        }

        if (pod.Spec.ImagePullSecrets is not { Count: > 0 } && account.ImagePullSecrets is { Count: > 0 } pullSecrets)
        {
            pod.Spec.ImagePullSecrets = [.. pullSecrets.Select(s => new V1LocalObjectReference { Name = s.Name })];
        }
    }

    /// <summary>The volume the plugin adds: token, ca.crt and namespace, mode 0644 (the projected default, written out).</summary>
    public static V1ProjectedVolumeSource TokenVolumeSource() => new()
    {
        DefaultMode = 420,
        Sources =
        [
            new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "token", ExpirationSeconds = TokenExpirationSeconds } },
            new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = RootCaConfigMap, Items = [new V1KeyToPath { Key = "ca.crt", Path = "ca.crt" }] } },
            new V1VolumeProjection
            {
                DownwardAPI = new V1DownwardAPIProjection
                {
                    Items = [new V1DownwardAPIVolumeFile { Path = "namespace", FieldRef = new V1ObjectFieldSelector { ApiVersion = "v1", FieldPath = "metadata.namespace" } }],
                },
            },
        ],
    };

    private void Mount(V1PodSpec spec)
    {
        // A volume the plugin added already (a retried create) is reused, as upstream looks for its prefix.
        string volumeName = spec.Volumes?.FirstOrDefault(v => v.Name.StartsWith(VolumePrefix, StringComparison.Ordinal))?.Name ?? "";
        bool hasVolume = volumeName.Length > 0;
        if (!hasVolume)
        {
            volumeName = context.GenerateName(VolumePrefix);
        }

        bool needed = false;
        foreach (var container in (spec.InitContainers ?? []).Concat(spec.Containers ?? []))
        {
            if (container.VolumeMounts?.Any(m => m.MountPath == MountPath) == true)
            {
                continue;
            }

            container.VolumeMounts ??= [];
            container.VolumeMounts.Add(new V1VolumeMount { Name = volumeName, ReadOnlyProperty = true, MountPath = MountPath });
            needed = true;
        }

        if (needed && !hasVolume)
        {
            spec.Volumes ??= [];
            spec.Volumes.Add(new V1Volume { Name = volumeName, Projected = TokenVolumeSource() });
        }
    }

    private async Task<V1ServiceAccount?> FindAsync(string ns, string name, CancellationToken cancellationToken)
    {
        int attempts = name == DefaultName ? DefaultAccountAttempts : 1;
        for (int attempt = 0; ; attempt++)
        {
            if (await lookUp(ns, name, cancellationToken) is { } account)
            {
                return account;
            }

            if (attempt + 1 >= attempts)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100 + context.Random.Next(100)), context.Time, cancellationToken);
        }
    }
}
