using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Requests;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// The REST verbs of one kind, routed to their jobs: reads (get, list), writes (create, update, delete,
/// deletecollection), watch, patch and the subresources with views of their own (scale, binding, and the "bindings"
/// collection). /status and /finalize are writes and patches of the object.
/// </summary>
internal sealed class ResourceHandler<T> : IResourceHandler
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private readonly ReadHandler<T> _reads;
    private readonly WriteHandler<T> _writes;
    private readonly WatchHandler<T> _watches;
    private readonly PatchHandler<T> _patches;
    private readonly SubresourceHandler<T> _subresources;

    public ResourceHandler(ResourceStore<T> store, RegistryContext context)
    {
        Kind = store.Kind;
        var responses = new ResourceResponses<T>(store.Kind, context.Time);
        _reads = new ReadHandler<T>(store, responses);
        _writes = new WriteHandler<T>(store, responses);
        _watches = new WatchHandler<T>(store, context);
        _patches = new PatchHandler<T>(store, responses);
        _subresources = new SubresourceHandler<T>(store, context);
    }

    public ResourceKind Kind { get; }

    public Task HandleAsync(HttpContext http, RequestInfo request)
    {
        string method = http.Request.Method;
        string? ns = request.Namespace;
        if (request.Resource == ResourceKind.Bindings)
        {
            return _subresources.BindNamedByBodyAsync(http, request);
        }

        CheckSubresource(request.Subresource, method);
        if (request.Name is not { } name)
        {
            return method switch
            {
                "GET" when RequestQuery.IsTrue(http.Request.Query["watch"]) => _watches.WatchAsync(http, ns),
                "GET" => _reads.ListAsync(http, ns),
                "POST" => _writes.CreateAsync(http, ns),
                "DELETE" => _writes.DeleteCollectionAsync(http, ns),
                _ => throw ApiException.MethodNotAllowed(method, Kind.Plural),
            };
        }

        return request.Subresource switch
        {
            "scale" => _subresources.ScaleAsync(http, ns, name),
            "binding" when method == "POST" => _subresources.BindAsync(http, ns, name),
            "binding" => throw ApiException.MethodNotRouted(),
            _ => method switch
            {
                "GET" => _reads.GetAsync(http, ns, name),
                "PUT" => _writes.UpdateAsync(http, ns, name, request.Subresource),
                "PATCH" => _patches.PatchAsync(http, ns, name, request.Subresource),
                "DELETE" when request.Subresource is null => _writes.DeleteAsync(http, ns, name),
                _ => throw ApiException.MethodNotAllowed(method, Kind.Plural),
            },
        };
    }

    private void CheckSubresource(string? subresource, string method)
    {
        bool known = subresource switch
        {
            null => true,
            "status" => Kind.HasStatus,
            "scale" => Kind.HasScale,
            "binding" => Kind.HasBinding,
            "finalize" => Kind.Kind == "Namespace" && method == "PUT",
            "ephemeralcontainers" => Kind.Kind == "Pod" && method is "GET" or "PUT" or "PATCH",
            _ => false,
        };
        if (!known)
        {
            throw ApiException.PathNotFound();
        }
    }
}
