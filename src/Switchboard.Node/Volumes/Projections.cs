using System.Globalization;
using System.Text;
using k8s.Models;
using Switchboard.Node.Kubelet;

namespace Switchboard.Node.Volumes;

/// <summary>
/// The files of configMap, secret, downwardAPI and projected volumes (service-account tokens included) as kubelet's
/// plugins compute them (makePayload): every key, or the listed items at their paths; each with its item mode, else the
/// volume's defaultMode (0644).
/// </summary>
internal static class Projections
{
    private const int DefaultMode = 420;

    public static Dictionary<string, FileProjection> ConfigMap(V1Pod pod, IVolumeSources sources, V1ConfigMapVolumeSource source) =>
        ConfigMapFiles(pod, sources, source.Name, source.Items, source.DefaultMode, source.Optional == true, projected: false);

    public static Dictionary<string, FileProjection> Secret(V1Pod pod, IVolumeSources sources, V1SecretVolumeSource source) =>
        SecretFiles(pod, sources, source.SecretName, source.Items, source.DefaultMode, source.Optional == true, projected: false);

    public static Dictionary<string, FileProjection> DownwardApi(V1Pod pod, IList<V1DownwardAPIVolumeFile>? items, int? defaultMode)
    {
        var files = new Dictionary<string, FileProjection>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            string value;
            if (item.FieldRef is { } field)
            {
                value = field.FieldPath switch
                {
                    "metadata.labels" => FormatMap(pod.Metadata.Labels),
                    "metadata.annotations" => FormatMap(pod.Metadata.Annotations),
                    _ => FieldValue(pod, field.FieldPath),
                };
            }
            else if (item.ResourceFieldRef is { } resource)
            {
                var container = pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).FirstOrDefault(c => c.Name == resource.ContainerName)
                    ?? throw new InvalidDataException($"unable to find container {resource.ContainerName} for resourceFieldRef {resource.Resource}");
                value = ContainerEnv.ResourceValue(container, resource);
            }
            else
            {
                continue;
            }

            files[item.Path] = File(Encoding.UTF8.GetBytes(value), item.Mode ?? defaultMode);
        }

        return files;
    }

    /// <summary>
    /// A projected volume: its sources' files merged in order (a later source wins a path); a serviceAccountToken source
    /// is its token from <paramref name="tokens"/>, at its path with the volume's mode.
    /// </summary>
    public static Dictionary<string, FileProjection> Projected(V1Pod pod, IVolumeSources sources, V1ProjectedVolumeSource projected, IReadOnlyDictionary<V1ServiceAccountTokenProjection, string> tokens)
    {
        var files = new Dictionary<string, FileProjection>(StringComparer.Ordinal);
        foreach (var source in projected.Sources ?? [])
        {
            var part = source.ConfigMap is { } cm ? ConfigMapFiles(pod, sources, cm.Name, cm.Items, projected.DefaultMode, cm.Optional == true, projected: true)
                : source.Secret is { } secret ? SecretFiles(pod, sources, secret.Name, secret.Items, projected.DefaultMode, secret.Optional == true, projected: true)
                : source.DownwardAPI is { } downward ? DownwardApi(pod, downward.Items, projected.DefaultMode)
                : source.ServiceAccountToken is { } token ? new Dictionary<string, FileProjection> { [token.Path] = File(Encoding.UTF8.GetBytes(tokens[token]), projected.DefaultMode) }
                : throw new InvalidDataException("only configMap, secret, downwardAPI and serviceAccountToken sources of a projected volume are served by this node");
            foreach (var (path, file) in part)
            {
                files[path] = file;
            }
        }

        return files;
    }

    /// <summary>Go's <c>key="value"</c> lines, sorted by key, with %q quoting (fieldpath.FormatMap).</summary>
    public static string FormatMap(IDictionary<string, string>? map) =>
        string.Join('\n', (map ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={GoQuote(p.Value)}"));

    private static string FieldValue(V1Pod pod, string path)
    {
        try
        {
            return ContainerEnv.FieldValue(pod, path) ?? "";
        }
        catch (ContainerConfigException e)
        {
            throw new InvalidDataException(e.Message);
        }
    }

    private static Dictionary<string, FileProjection> ConfigMapFiles(V1Pod pod, IVolumeSources sources, string name, IList<V1KeyToPath>? items, int? defaultMode, bool optional, bool projected)
    {
        string ns = pod.Metadata.NamespaceProperty;
        var cm = sources.ConfigMap(ns, name);
        if (cm is null && !optional)
        {
            throw new InvalidDataException(projected ? $"couldn't get configMap {ns}/{name}: configmap \"{name}\" not found" : $"configmap \"{name}\" not found");
        }

        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in cm?.Data ?? new Dictionary<string, string>())
        {
            data[key] = Encoding.UTF8.GetBytes(value);
        }

        foreach (var (key, value) in cm?.BinaryData ?? new Dictionary<string, byte[]>())
        {
            data[key] = value;
        }

        return Files(data, items, defaultMode, optional, key => $"configmap references non-existent config key: {key}");
    }

    private static Dictionary<string, FileProjection> SecretFiles(V1Pod pod, IVolumeSources sources, string name, IList<V1KeyToPath>? items, int? defaultMode, bool optional, bool projected)
    {
        string ns = pod.Metadata.NamespaceProperty;
        var secret = sources.Secret(ns, name);
        if (secret is null && !optional)
        {
            throw new InvalidDataException(projected ? $"couldn't get secret {ns}/{name}: secret \"{name}\" not found" : $"secret \"{name}\" not found");
        }

        return Files(new Dictionary<string, byte[]>(secret?.Data ?? new Dictionary<string, byte[]>(), StringComparer.Ordinal), items, defaultMode, optional,
            key => $"secret references non-existent secret key: {key}");
    }

    private static Dictionary<string, FileProjection> Files(Dictionary<string, byte[]> data, IList<V1KeyToPath>? items, int? defaultMode, bool optional, Func<string, string> missing)
    {
        var files = new Dictionary<string, FileProjection>(StringComparer.Ordinal);
        if (items is not { Count: > 0 })
        {
            foreach (var (key, value) in data)
            {
                files[key] = File(value, defaultMode);
            }

            return files;
        }

        foreach (var item in items)
        {
            if (!data.TryGetValue(item.Key, out var value))
            {
                if (optional)
                {
                    continue;
                }

                throw new InvalidDataException(missing(item.Key));
            }

            files[item.Path] = File(value, item.Mode ?? defaultMode);
        }

        return files;
    }

    private static FileProjection File(byte[] data, int? mode) => new(data, (UnixFileMode)(mode ?? DefaultMode));

    /// <summary>Go's strconv.Quote: printable characters as they are; quote, backslash and control characters escaped.</summary>
    internal static string GoQuote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\a': text.Append("\\a"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\v': text.Append("\\v"); break;
                case < 0x20 or 0x7f: text.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture)); break;
                default:
                    if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
                    {
                        text.Append(rune.Value > 0xffff ? "\\U" : "\\u").Append(rune.Value.ToString(rune.Value > 0xffff ? "x8" : "x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(rune.ToString());
                    }

                    break;
            }
        }

        return text.Append('"').ToString();
    }
}
