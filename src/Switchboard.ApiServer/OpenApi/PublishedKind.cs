using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>
/// A kind some path of the API answers with, and the model its schema is made from: a registry kind, a subresource's
/// (autoscaling's Scale), or one served by a handler of its own (a review, the resource metrics). Its definition
/// carries the group, version and kind as x-kubernetes-group-version-kind, which is how <c>kubectl explain</c> finds it.
/// </summary>
internal sealed record PublishedKind(string Group, string Version, string Kind, Type Model)
{
    public static PublishedKind Of(ResourceKind kind) => new(kind.Group, kind.Version, kind.Kind, kind.ModelType);

    public static PublishedKind Of(Subresource subresource) => new(subresource.Group, subresource.Version, subresource.Kind, subresource.Model);
}
