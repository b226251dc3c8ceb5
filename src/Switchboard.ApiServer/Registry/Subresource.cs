using k8s.Models;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// A subresource kube-apiserver registers for a kind (<c>deployments/scale</c>, <c>pods/eviction</c>), with the kind it
/// answers with and its verbs: what discovery lists and what the OpenAPI documents publish paths and schemas for.
/// </summary>
/// <param name="Name">The path segment after the object's name.</param>
/// <param name="Group">The group of the kind it answers with (autoscaling's Scale for scale; the kind's own for status).</param>
/// <param name="Version">The version of that kind.</param>
/// <param name="Kind">That kind.</param>
/// <param name="Model">The model type of that kind.</param>
/// <param name="Verbs">What may be done to it.</param>
internal sealed record Subresource(string Name, string Group, string Version, string Kind, Type Model, IReadOnlyList<string> Verbs)
{
    private static readonly string[] ReadWrite = ["get", "patch", "update"];

    /// <summary>A pod's /binding answers with a core v1 Binding, as does the kind's legacy "bindings" collection.</summary>
    public static Subresource Binding { get; } = new("binding", "", "v1", "Binding", typeof(V1Binding), ["create"]);

    /// <summary>The subresources of a kind, from its declared flags (status, scale, binding) and upstream's per-kind ones.</summary>
    public static IEnumerable<Subresource> Of(ResourceKind kind)
    {
        if (kind.HasBinding)
        {
            yield return Binding;
        }

        if (kind.HasStatus)
        {
            yield return Own(kind, "status", ReadWrite);
        }

        if (kind.HasScale)
        {
            yield return new Subresource("scale", "autoscaling", "v1", "Scale", typeof(V1Scale), ReadWrite);
        }

        switch (kind.Kind)
        {
            case "Pod":
                yield return new Subresource("eviction", "policy", "v1", "Eviction", typeof(V1Eviction), ["create"]);
                yield return Own(kind, "ephemeralcontainers", ReadWrite);
                break;
            case "Namespace":
                yield return Own(kind, "finalize", ["update"]);
                break;
            case "ServiceAccount":
                yield return new Subresource("token", "authentication.k8s.io", "v1", "TokenRequest", typeof(Authenticationv1TokenRequest), ["create"]);
                break;
        }
    }

    private static Subresource Own(ResourceKind kind, string name, IReadOnlyList<string> verbs) => new(name, kind.Group, kind.Version, kind.Kind, kind.ModelType, verbs);
}
