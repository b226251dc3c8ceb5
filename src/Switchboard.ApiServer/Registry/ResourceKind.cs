namespace Switchboard.ApiServer.Registry;

/// <summary>What discovery and the router know about one resource: names, scope, subresources.</summary>
internal abstract class ResourceKind
{
    /// <summary>
    /// The collection that creates a kind's /binding with the object named by the Binding (upstream's legacy
    /// "bindings" of pods), served by the kind that has /binding.
    /// </summary>
    public const string Bindings = "bindings";

    public required string Group { get; init; }

    public required string Version { get; init; }

    public required string Kind { get; init; }

    /// <summary>The plural lower-case resource name used in URLs and storage keys.</summary>
    public required string Plural { get; init; }

    public required bool Namespaced { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Whether /status exists and the main resource ignores status changes.</summary>
    public bool HasStatus { get; init; }

    /// <summary>Whether /scale exists (autoscaling/v1 Scale).</summary>
    public bool HasScale { get; init; }

    /// <summary>Whether /binding exists (create only, a v1 Binding).</summary>
    public bool HasBinding { get; init; }

    /// <summary>Whether PUT may create a missing object (endpoints, events).</summary>
    public bool AllowCreateOnUpdate { get; init; }

    public string Singular => Kind.ToLowerInvariant();

    public string GroupVersion => Group.Length == 0 ? Version : Group + "/" + Version;

    public string ListKind => Kind + "List";

    public abstract Type ModelType { get; }

    /// <summary>The storage key of one object, laid out as kube-apiserver does in etcd.</summary>
    public string Key(string? ns, string name) => Namespaced ? $"/registry/{Plural}/{ns}/{name}" : $"/registry/{Plural}/{name}";

    /// <summary>The key prefix of a collection: one namespace, or all of them when <paramref name="ns"/> is null.</summary>
    public string Prefix(string? ns) => Namespaced && ns is not null ? $"/registry/{Plural}/{ns}/" : $"/registry/{Plural}/";
}
