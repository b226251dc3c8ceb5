namespace Switchboard.ApiServer.Discovery;

/// <summary>
/// A group version served by a handler of its own rather than by the registry's kinds (metrics.k8s.io, as an
/// aggregated API server serves it upstream): what discovery lists of it.
/// </summary>
internal sealed record ServedGroup(string Group, string Version, IReadOnlyList<ServedResource> Resources);

/// <summary>One resource of a <see cref="ServedGroup"/>: name, kind, scope, verbs, and the model its OpenAPI schema is made from.</summary>
internal sealed record ServedResource(string Name, string Kind, bool Namespaced, IReadOnlyList<string> Verbs, Type Model);
