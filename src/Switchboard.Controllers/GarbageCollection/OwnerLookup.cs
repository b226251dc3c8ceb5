using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Serialization;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Switchboard.Controllers.GarbageCollection;

/// <summary>
/// Whether an owner of a kind the collector has no informer for still exists: discovery turns its apiVersion and kind
/// into a resource (cached per apiVersion), then a GET by name reads its metadata and compares the uid.
/// </summary>
internal sealed class OwnerLookup(IKubernetes client)
{
    private readonly ConcurrentDictionary<string, V1APIResourceList> _discovered = new(StringComparer.Ordinal);

    /// <summary>True or false when known; null when the kind cannot be resolved (never collect on a guess).</summary>
    public async Task<bool?> ExistsAsync(V1OwnerReference owner, string? ns, CancellationToken cancellationToken)
    {
        string apiVersion = owner.ApiVersion ?? "";
        var (group, version) = SplitApiVersion(apiVersion);
        var resources = await DiscoverAsync(apiVersion, group, version, cancellationToken);
        var resource = resources?.Resources?.FirstOrDefault(r => r.Kind == owner.Kind && !r.Name.Contains('/', StringComparison.Ordinal));
        if (resource is null)
        {
            return null;
        }

        using var generic = new GenericClient(client, group, version, resource.Name, disposeClient: false);
        try
        {
            var found = resource.Namespaced
                ? await generic.ReadNamespacedAsync<ObjectMetadata>(ns ?? "", owner.Name, cancellationToken)
                : await generic.ReadAsync<ObjectMetadata>(owner.Name, cancellationToken);
            return found.Metadata?.Uid == owner.Uid;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>An apiVersion's group ("" for the core group's plain "v1") and version.</summary>
    public static (string Group, string Version) SplitApiVersion(string? apiVersion)
    {
        apiVersion ??= "";
        int slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }

    private async Task<V1APIResourceList?> DiscoverAsync(string apiVersion, string group, string version, CancellationToken cancellationToken)
    {
        if (_discovered.TryGetValue(apiVersion, out var known))
        {
            return known;
        }

        try
        {
            var list = group.Length == 0
                ? await client.CoreV1.GetAPIResourcesAsync(cancellationToken)
                : await client.CustomObjects.GetAPIResourcesAsync(group, version, cancellationToken);
            _discovered[apiVersion] = list;
            return list;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // No such API group or version (yet): unresolvable for now, asked again next time.
            return null;
        }
    }

    /// <summary>Any object, read only for its metadata.</summary>
    private sealed class ObjectMetadata : IKubernetesObject<V1ObjectMeta>
    {
        [JsonPropertyName("apiVersion")]
        public string ApiVersion { get; set; } = "";

        [JsonPropertyName("kind")]
        public string Kind { get; set; } = "";

        [JsonPropertyName("metadata")]
        public V1ObjectMeta Metadata { get; set; } = new();
    }
}
