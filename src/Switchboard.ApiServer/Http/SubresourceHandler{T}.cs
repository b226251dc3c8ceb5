using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Apply;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Requests;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// The subresources that are views of their own: /scale (an autoscaling/v1 Scale) and /binding, also reached as the
/// "bindings" collection. /status and a namespace's /finalize are updates and patches of the object itself.
/// </summary>
internal sealed class SubresourceHandler<T>(ResourceStore<T> store, RegistryContext context)
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private ResourceKind<T> Kind => store.Kind;

    public async Task ScaleAsync(HttpContext http, string? ns, string name)
    {
        var access = Kind.Scale!;
        switch (http.Request.Method)
        {
            case "GET":
                await ApiJson.WriteAsync(http, 200, ScaleOf(await store.GetAsync(ns, name, http.RequestAborted), access));
                return;
            case "PUT" or "PATCH":
                var body = http.Request.Method == "PUT" ? await RequestBody.ReadAsync(http) : await PatchRequest.ReadAsync(http);
                var updated = await store.UpdateWithAsync(ns, name, null, current =>
                {
                    var scale = http.Request.Method == "PUT" ? body : PatchRequest.Apply(http, ScaleOf(current, access), body);
                    if (scale["metadata"]?["resourceVersion"]?.ToString() is { Length: > 0 } pinned && pinned != current.Metadata.ResourceVersion)
                    {
                        throw ApiException.StaleUpdate(Kind.Plural, name, Kind.Group);
                    }

                    int replicas = scale["spec"]?["replicas"]?.GetValue<int>() ?? 0;
                    if (replicas < 0)
                    {
                        throw ApiException.Invalid("Scale", name, "autoscaling", [FieldError.Invalid("spec.replicas", replicas, "must be greater than or equal to 0")]);
                    }

                    access.SetSpecReplicas(current, replicas);
                    current.Metadata.ResourceVersion = null;
                    return current;
                }, null, RequestQuery.IsDryRun(http), http.RequestAborted, FieldWriters.Update(http, Kind));
                await ApiJson.WriteAsync(http, 200, ScaleOf(updated, access));
                return;
            default:
                throw ApiException.MethodNotAllowed(http.Request.Method, Kind.Plural + "/scale");
        }
    }

    /// <summary>
    /// The namespaced "bindings" collection, as kube-apiserver's LegacyBindingREST: POST alone, and it is the /binding
    /// of the object the Binding itself names. Its create is not a subresource's, so upstream wipes the Binding's uid
    /// first (WipeObjectMetaSystemFields) and only a resourceVersion stays a precondition.
    /// </summary>
    public async Task BindNamedByBodyAsync(HttpContext http, RequestInfo request)
    {
        if (request.Namespace is not { } ns || request.Name is not null || request.Subresource is not null)
        {
            throw ApiException.PathNotFound();
        }

        if (http.Request.Method != "POST")
        {
            throw ApiException.MethodNotRouted();
        }

        await BindAsync(http, ns, null);
    }

    /// <summary>
    /// pods/binding, as kube-apiserver: the Binding names the pod of the URL (<paramref name="name"/>; null when the
    /// "bindings" collection takes it from the Binding), its uid and resourceVersion are preconditions on the pod, and
    /// success is 201 with a Success Status rather than an object.
    /// </summary>
    public async Task BindAsync(HttpContext http, string? ns, string? name)
    {
        var access = Kind.Binding!;
        var binding = await RequestBody.ReadObjectAsync<V1Binding>(http, V1Binding.KubeKind, V1Binding.KubeApiVersion, V1Binding.KubeApiVersion);
        binding.Metadata ??= new V1ObjectMeta();
        store.CheckNamespaceOfBody(ns, binding.Metadata);
        if (name is null)
        {
            binding.Metadata.Uid = null;
        }
        else if (binding.Metadata.Name != name)
        {
            throw ApiException.BadRequest("name in URL does not match name in Binding object");
        }

        var errors = access.Validate(binding).ToList();
        if (errors.Count > 0)
        {
            throw ApiException.Invalid(V1Binding.KubeKind, binding.Metadata.Name ?? "", "", errors);
        }

        // Only through "bindings" can a Binding name no pod; upstream's storage key of the pod then refuses it.
        string pod = binding.Metadata.Name;
        if (string.IsNullOrEmpty(pod))
        {
            throw ApiException.BadRequest("Name parameter required.");
        }

        string? uid = string.IsNullOrEmpty(binding.Metadata.Uid) ? null : binding.Metadata.Uid;
        string? resourceVersion = string.IsNullOrEmpty(binding.Metadata.ResourceVersion) ? null : binding.Metadata.ResourceVersion;
        await store.UpdateWithAsync(ns, pod, null, current =>
        {
            store.CheckPreconditions(current, uid, resourceVersion);
            access.Bind(current, binding, context.Now());
            return current;
        }, "binding", RequestQuery.IsDryRun(http), http.RequestAborted);
        await ApiJson.WriteStatusAsync(http, new V1Status { Status = "Success", Code = StatusCodes.Status201Created });
    }

    private static JsonObject ScaleOf(T obj, ScaleAccess<T> access) => new()
    {
        ["kind"] = "Scale",
        ["apiVersion"] = "autoscaling/v1",
        ["metadata"] = new JsonObject
        {
            ["name"] = obj.Metadata.Name,
            ["namespace"] = obj.Metadata.NamespaceProperty,
            ["uid"] = obj.Metadata.Uid,
            ["resourceVersion"] = obj.Metadata.ResourceVersion,
            ["creationTimestamp"] = ModelJson.ToNode(obj.Metadata.CreationTimestamp),
        },
        ["spec"] = new JsonObject { ["replicas"] = access.SpecReplicas(obj) },
        ["status"] = new JsonObject { ["replicas"] = access.StatusReplicas(obj), ["selector"] = access.Selector(obj) },
    };
}
