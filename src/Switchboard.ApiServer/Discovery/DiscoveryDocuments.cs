using System.Text.Json.Nodes;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Discovery;

/// <summary>
/// The discovery documents: the legacy ones (/api, /apis, /api/v1, /apis/GROUP and /apis/GROUP/VERSION) and the
/// aggregated APIGroupDiscoveryList kubectl 1.32 asks /api and /apis for first (one request instead of one per group
/// version). Both are made from the catalog's declarations: names, scope, short names, categories, subresources.
/// </summary>
internal sealed class DiscoveryDocuments
{
    /// <summary>The verbs of every registry kind, as kube-apiserver's generic REST storage registers them.</summary>
    public static IReadOnlyList<string> ReadWriteVerbs { get; } = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    private readonly IReadOnlyList<ResourceKind> _kinds;
    private readonly IReadOnlyList<ServedGroup> _servedElsewhere;

    /// <param name="kinds">The kinds of the registry.</param>
    /// <param name="servedElsewhere">Group versions with handlers of their own (metrics.k8s.io), listed among the groups.</param>
    public DiscoveryDocuments(IReadOnlyList<ResourceKind> kinds, IReadOnlyList<ServedGroup> servedElsewhere)
    {
        _kinds = kinds;
        _servedElsewhere = servedElsewhere;
    }

    public IEnumerable<string> Groups => _kinds.Select(k => k.Group).Where(g => g.Length > 0).Concat(_servedElsewhere.Select(g => g.Group)).Distinct();

    public JsonObject Versions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public JsonObject GroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray([.. Groups.Select(g => (JsonNode)Group(g))]),
    };

    public JsonObject Group(string group)
    {
        string version = _kinds.FirstOrDefault(k => k.Group == group)?.Version ?? _servedElsewhere.First(g => g.Group == group).Version;
        var groupVersion = new JsonObject { ["groupVersion"] = group + "/" + version, ["version"] = version };
        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = group,
            ["versions"] = new JsonArray(groupVersion.DeepClone()),
            ["preferredVersion"] = groupVersion,
        };
    }

    /// <summary>
    /// The aggregated discovery of the legacy group (<paramref name="legacy"/>: /api, one item named "") or of the named
    /// groups (/apis), in apidiscovery.k8s.io <paramref name="apiVersion"/> (v2 or v2beta1, the same shape).
    /// </summary>
    public JsonObject Aggregated(bool legacy, string apiVersion)
    {
        var items = new JsonArray();
        foreach (var group in _kinds.Where(k => (k.Group.Length == 0) == legacy).GroupBy(k => k.Group))
        {
            var versions = new JsonArray();
            foreach (var version in group.GroupBy(k => k.Version))
            {
                versions.Add((JsonNode)new JsonObject
                {
                    ["version"] = version.Key,
                    ["resources"] = new JsonArray([.. version.SelectMany(AggregatedResources)]),
                    ["freshness"] = "Current",
                });
            }

            items.Add((JsonNode)new JsonObject { ["metadata"] = new JsonObject { ["name"] = group.Key, ["creationTimestamp"] = null }, ["versions"] = versions });
        }

        foreach (var served in legacy ? [] : _servedElsewhere)
        {
            var resources = served.Resources.Select(r => (JsonNode)new JsonObject
            {
                ["resource"] = r.Name,
                ["responseKind"] = ResponseKind(served.Group, served.Version, r.Kind),
                ["scope"] = r.Namespaced ? "Namespaced" : "Cluster",
                ["singularResource"] = "",
                ["verbs"] = new JsonArray([.. r.Verbs.Select(v => (JsonNode)v)]),
            });
            var version = new JsonObject { ["version"] = served.Version, ["resources"] = new JsonArray([.. resources]), ["freshness"] = "Current" };
            items.Add((JsonNode)new JsonObject { ["metadata"] = new JsonObject { ["name"] = served.Group, ["creationTimestamp"] = null }, ["versions"] = new JsonArray(version) });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/" + apiVersion,
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
    }

    private static IEnumerable<JsonNode> AggregatedResources(ResourceKind kind)
    {
        yield return AggregatedResource(kind);
        if (kind.HasBinding)
        {
            yield return new JsonObject
            {
                ["resource"] = ResourceKind.Bindings,
                ["responseKind"] = ResponseKind("", "v1", "Binding"),
                ["scope"] = kind.Namespaced ? "Namespaced" : "Cluster",
                ["singularResource"] = "binding",
                ["verbs"] = new JsonArray("create"),
            };
        }
    }

    private static JsonObject AggregatedResource(ResourceKind kind)
    {
        var entry = new JsonObject
        {
            ["resource"] = kind.Plural,
            ["responseKind"] = ResponseKind(kind.Group, kind.Version, kind.Kind),
            ["scope"] = kind.Namespaced ? "Namespaced" : "Cluster",
            ["singularResource"] = kind.Singular,
            ["verbs"] = new JsonArray([.. ReadWriteVerbs.Select(v => (JsonNode)v)]),
        };
        if (kind.ShortNames.Count > 0)
        {
            entry["shortNames"] = new JsonArray([.. kind.ShortNames.Select(s => (JsonNode)s)]);
        }

        if (kind.Categories.Count > 0)
        {
            entry["categories"] = new JsonArray([.. kind.Categories.Select(c => (JsonNode)c)]);
        }

        var subresources = new JsonArray();
        foreach (var sub in Subresource.Of(kind))
        {
            subresources.Add((JsonNode)new JsonObject
            {
                ["subresource"] = sub.Name,
                ["responseKind"] = ResponseKind(sub.Group, sub.Version, sub.Kind),
                ["verbs"] = new JsonArray([.. sub.Verbs.Select(v => (JsonNode)v)]),
            });
        }

        if (subresources.Count > 0)
        {
            entry["subresources"] = subresources;
        }

        return entry;
    }

    private static JsonObject ResponseKind(string group, string version, string kind) => new() { ["group"] = group, ["version"] = version, ["kind"] = kind };

    public bool HasGroupVersion(string group, string version) =>
        _kinds.Any(k => k.Group == group && k.Version == version) || _servedElsewhere.Any(g => g.Group == group && g.Version == version);

    public JsonObject ResourceList(string group, string version)
    {
        var resources = new JsonArray();
        foreach (var served in _servedElsewhere.Where(g => g.Group == group && g.Version == version).SelectMany(g => g.Resources))
        {
            resources.Add((JsonNode)new JsonObject
            {
                ["name"] = served.Name,
                ["singularName"] = "",
                ["namespaced"] = served.Namespaced,
                ["kind"] = served.Kind,
                ["verbs"] = new JsonArray([.. served.Verbs.Select(v => (JsonNode)v)]),
            });
        }

        foreach (var kind in _kinds.Where(k => k.Group == group && k.Version == version))
        {
            var entry = new JsonObject
            {
                ["name"] = kind.Plural,
                ["singularName"] = kind.Singular,
                ["namespaced"] = kind.Namespaced,
                ["kind"] = kind.Kind,
                ["verbs"] = new JsonArray([.. ReadWriteVerbs.Select(v => (JsonNode)v)]),
            };
            if (kind.ShortNames.Count > 0)
            {
                entry["shortNames"] = new JsonArray([.. kind.ShortNames.Select(s => (JsonNode)s)]);
            }

            if (kind.Categories.Count > 0)
            {
                entry["categories"] = new JsonArray([.. kind.Categories.Select(c => (JsonNode)c)]);
            }

            resources.Add((JsonNode)entry);
            foreach (var sub in Subresource.Of(kind))
            {
                resources.Add((JsonNode)SubresourceEntry(kind, sub));
            }

            if (kind.HasBinding)
            {
                resources.Add((JsonNode)new JsonObject
                {
                    ["name"] = ResourceKind.Bindings,
                    ["singularName"] = "binding",
                    ["namespaced"] = kind.Namespaced,
                    ["kind"] = "Binding",
                    ["verbs"] = new JsonArray("create"),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : group + "/" + version,
            ["resources"] = resources,
        };
    }

    /// <summary>A subresource's APIResource: group and version only when its kind is not of the kind's own group version.</summary>
    private static JsonObject SubresourceEntry(ResourceKind kind, Subresource sub)
    {
        var entry = new JsonObject
        {
            ["name"] = kind.Plural + "/" + sub.Name,
            ["singularName"] = "",
            ["namespaced"] = kind.Namespaced,
            ["kind"] = sub.Kind,
            ["verbs"] = new JsonArray([.. sub.Verbs.Select(v => (JsonNode)v)]),
        };
        if (sub.Group != kind.Group || sub.Version != kind.Version)
        {
            entry["group"] = sub.Group;
            entry["version"] = sub.Version;
        }

        return entry;
    }
}
