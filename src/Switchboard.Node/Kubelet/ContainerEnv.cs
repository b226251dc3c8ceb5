using System.Globalization;
using System.Text;
using k8s.Models;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// A container's environment as kubelet assembles it (makeEnvironmentVariables): envFrom in order, then env (values
/// expanded against what came before and the service variables; valueFrom resolved), then the service variables for
/// names not yet defined.
/// </summary>
internal sealed class ContainerEnv(IEnvSources sources)
{
    /// <summary>The environment, or throws <see cref="ContainerConfigException"/> when a non-optional source is missing.</summary>
    public async Task<Dictionary<string, string>> BuildAsync(V1Pod pod, V1Container container, IReadOnlyDictionary<string, string> serviceEnv, CancellationToken cancellationToken)
    {
        string ns = pod.Metadata.NamespaceProperty;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var from in container.EnvFrom ?? [])
        {
            string prefix = from.Prefix ?? "";
            if (from.ConfigMapRef is { } cmRef)
            {
                var cm = await sources.ConfigMapAsync(ns, cmRef.Name, cancellationToken);
                if (cm is null && cmRef.Optional != true)
                {
                    throw new ContainerConfigException($"configmap \"{cmRef.Name}\" not found");
                }

                foreach (var (key, value) in cm?.Data ?? new Dictionary<string, string>())
                {
                    env[prefix + key] = value;
                }
            }
            else if (from.SecretRef is { } secretRef)
            {
                var secret = await sources.SecretAsync(ns, secretRef.Name, cancellationToken);
                if (secret is null && secretRef.Optional != true)
                {
                    throw new ContainerConfigException($"secret \"{secretRef.Name}\" not found");
                }

                foreach (var (key, value) in secret?.Data ?? new Dictionary<string, byte[]>())
                {
                    env[prefix + key] = Encoding.UTF8.GetString(value);
                }
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            string? value = variable.ValueFrom is { } source
                ? await ValueFromAsync(pod, container, source, cancellationToken)
                : EnvExpansion.Expand(variable.Value ?? "", name => env.GetValueOrDefault(name) ?? serviceEnv.GetValueOrDefault(name));
            if (value is not null)
            {
                env[variable.Name] = value;
            }
        }

        foreach (var (name, value) in serviceEnv)
        {
            env.TryAdd(name, value);
        }

        return env;
    }

    private async Task<string?> ValueFromAsync(V1Pod pod, V1Container container, V1EnvVarSource source, CancellationToken cancellationToken)
    {
        string ns = pod.Metadata.NamespaceProperty;
        if (source.FieldRef is { } field)
        {
            return FieldValue(pod, field.FieldPath);
        }

        if (source.ResourceFieldRef is { } resource)
        {
            return ResourceValue(container, resource);
        }

        if (source.ConfigMapKeyRef is { } cmKey)
        {
            var cm = await sources.ConfigMapAsync(ns, cmKey.Name, cancellationToken);
            if (cm is null)
            {
                return cmKey.Optional == true ? null : throw new ContainerConfigException($"configmap \"{cmKey.Name}\" not found");
            }

            return Get(cm.Data, cmKey.Key)
                ?? (cmKey.Optional == true ? null : throw new ContainerConfigException($"couldn't find key {cmKey.Key} in ConfigMap {ns}/{cmKey.Name}"));
        }

        if (source.SecretKeyRef is { } secretKey)
        {
            var secret = await sources.SecretAsync(ns, secretKey.Name, cancellationToken);
            if (secret is null)
            {
                return secretKey.Optional == true ? null : throw new ContainerConfigException($"secret \"{secretKey.Name}\" not found");
            }

            return Get(secret.Data, secretKey.Key) is { } bytes ? Encoding.UTF8.GetString(bytes)
                : secretKey.Optional == true ? null : throw new ContainerConfigException($"couldn't find key {secretKey.Key} in Secret {ns}/{secretKey.Name}");
        }

        return null;
    }

    /// <summary>The downward API fields kubelet resolves for env (podFieldSelectorRuntimeValue and the API server's conversion).</summary>
    public static string? FieldValue(V1Pod pod, string path)
    {
        static string? Keyed(IDictionary<string, string>? map, string path, string prefix) =>
            path.StartsWith(prefix + "['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal)
                ? Get(map, path[(prefix.Length + 2)..^2]) ?? ""
                : null;

        return path switch
        {
            "metadata.name" => pod.Metadata.Name,
            "metadata.namespace" => pod.Metadata.NamespaceProperty,
            "metadata.uid" => pod.Metadata.Uid,
            "spec.nodeName" => pod.Spec.NodeName,
            "spec.serviceAccountName" => pod.Spec.ServiceAccountName ?? "default",
            "status.hostIP" => pod.Status?.HostIP ?? "",
            "status.hostIPs" => string.Join(',', pod.Status?.HostIPs?.Select(i => i.Ip) ?? []),
            "status.podIP" => pod.Status?.PodIP ?? "",
            "status.podIPs" => string.Join(',', pod.Status?.PodIPs?.Select(i => i.Ip) ?? []),
            _ => Keyed(pod.Metadata.Labels, path, "metadata.labels") ?? Keyed(pod.Metadata.Annotations, path, "metadata.annotations")
                ?? throw new ContainerConfigException($"unsupported fieldPath: {path}"),
        };
    }

    private static TValue? Get<TValue>(IDictionary<string, TValue>? map, string key)
        where TValue : class => map is not null && map.TryGetValue(key, out var value) ? value : null;

    public static string ResourceValue(V1Container container, V1ResourceFieldSelector selector)
    {
        string resource = selector.Resource;
        var quantities = resource.StartsWith("limits.", StringComparison.Ordinal) ? container.Resources?.Limits : container.Resources?.Requests;
        string name = resource[(resource.IndexOf('.', StringComparison.Ordinal) + 1)..];
        decimal divisor = selector.Divisor is { } d ? d.ToDecimal() : 1m;
        decimal value = Get(quantities, name) is { } q ? q.ToDecimal()
            : name == "cpu" ? Environment.ProcessorCount
            : name == "memory" ? NodeResources.MemoryBytes()
            : 0m;
        // Kubelet rounds up to the divisor: 250m of cpu with divisor 1 is "1".
        return decimal.Ceiling(value / divisor).ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>Where ConfigMaps and Secrets come from (the API server).</summary>
internal interface IEnvSources
{
    Task<V1ConfigMap?> ConfigMapAsync(string ns, string name, CancellationToken cancellationToken);

    Task<V1Secret?> SecretAsync(string ns, string name, CancellationToken cancellationToken);
}

/// <summary>A container cannot be configured (waiting reason CreateContainerConfigError).</summary>
internal sealed class ContainerConfigException(string message) : Exception(message);
