using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Apply;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.OpenApi;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// PATCH of an object or its /status: a json, merge or strategic-merge patch applied to the stored object inside the
/// store's read-modify-write, or a server-side apply (application/apply-patch+yaml), merged as the schema says with
/// field ownership (<see cref="ManagedFields"/>), which creates the object when it does not exist yet (201).
/// </summary>
internal sealed class PatchHandler<T>(ResourceStore<T> store, ResourceResponses<T> responses)
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private const int MaxManagerLength = 128;

    private ResourceKind Kind => store.Kind;

    public async Task PatchAsync(HttpContext http, string? ns, string name, string? subresource)
    {
        if (PatchRequest.IsApply(http))
        {
            await ApplyAsync(http, ns, name, subresource);
            return;
        }

        if (http.Request.Query.ContainsKey("force"))
        {
            throw ApiException.Invalid("PatchOptions", "", "meta.k8s.io", [FieldError.Forbidden("force", "may not be specified for non-apply patch")]);
        }

        var patch = await PatchRequest.ReadAsync(http);
        var updated = await store.UpdateWithAsync(ns, name, null, current => Patched(http, current, patch), subresource, RequestQuery.IsDryRun(http), http.RequestAborted, FieldWriters.Update(http, Kind));
        await responses.WriteObjectAsync(http, 200, updated);
    }

    private T Patched(HttpContext http, T current, JsonNode patch)
    {
        var node = ObjectCodec.ToNode(current);
        var patched = PatchRequest.Apply(http, node, patch);
        FieldValidation.Check(http, patched, typeof(T), Kind.Kind, Kind.Version);
        var obj = ObjectCodec.FromNode<T>(patched, Kind.Kind);
        obj.Metadata ??= new V1ObjectMeta();

        // A patch pins the version only if it names one explicitly.
        obj.Metadata.ResourceVersion = patched["metadata"]?["resourceVersion"] is JsonValue v && v.ToString() != current.Metadata.ResourceVersion ? v.ToString() : null;
        return obj;
    }

    private async Task ApplyAsync(HttpContext http, string? ns, string name, string? subresource)
    {
        string manager = http.Request.Query["fieldManager"].ToString();
        if (manager.Length == 0)
        {
            throw ApiException.Invalid("PatchOptions", "", "meta.k8s.io", [FieldError.Required("fieldManager", "is required for apply patch")]);
        }

        if (manager.Length > MaxManagerLength)
        {
            throw ApiException.Invalid("PatchOptions", "", "meta.k8s.io", [FieldError.TooLong("fieldManager", MaxManagerLength)]);
        }

        bool force = RequestQuery.IsTrue(http.Request.Query["force"]);
        var config = await ReadConfigurationAsync(http, ns, name);
        var shape = ModelShape.Of(typeof(T));
        bool dryRun = RequestQuery.IsDryRun(http);

        if (subresource is null && await store.TryGetAsync(ns, name, http.RequestAborted) is null)
        {
            var applied = ManagedFields.Apply(null, config, shape, manager, force, Kind.GroupVersion, null, store.Now());
            var obj = ObjectCodec.FromNode<T>(applied.Object, Kind.Kind);
            obj.Metadata ??= new V1ObjectMeta();
            obj.Metadata.Name = name;
            try
            {
                await responses.WriteObjectAsync(http, 201, await store.CreateAsync(ns, obj, dryRun, http.RequestAborted, FieldWriters.Apply));
                return;
            }
            catch (ApiException e) when (e.Code == StatusCodes.Status409Conflict && e.Status.Reason == "AlreadyExists")
            {
                // Created meanwhile: apply to it as to any live object.
            }
        }

        var updated = await store.UpdateWithAsync(ns, name, null, current =>
        {
            var applied = ManagedFields.Apply(ObjectCodec.ToNode(current), config, shape, manager, force, Kind.GroupVersion, subresource, store.Now());
            if (applied.Unchanged)
            {
                return current;
            }

            var obj = ObjectCodec.FromNode<T>(applied.Object, Kind.Kind);
            obj.Metadata.ResourceVersion = null;
            return obj;
        }, subresource, dryRun, http.RequestAborted, FieldWriters.Apply);
        await responses.WriteObjectAsync(http, 200, updated);
    }

    /// <summary>The applied configuration, checked as kube-apiserver checks it before merging (400s, and fieldValidation).</summary>
    private async Task<JsonObject> ReadConfigurationAsync(HttpContext http, string? ns, string name)
    {
        if (await RequestBody.ReadAsync(http) is not JsonObject config)
        {
            throw ApiException.BadRequest("error decoding YAML: the apply patch is not an object");
        }

        string? apiVersion = config["apiVersion"]?.ToString();
        if (apiVersion != Kind.GroupVersion)
        {
            throw ApiException.BadRequest($"Incorrect version specified in apply patch. Specified patch version: {apiVersion}, expected: {Kind.GroupVersion}");
        }

        string? kind = config["kind"]?.ToString();
        if (kind != Kind.Kind)
        {
            throw ApiException.BadRequest($"invalid object type: /{Kind.Version}, Kind={kind}");
        }

        if (config["metadata"]?["managedFields"] is not null)
        {
            throw ApiException.BadRequest("metadata.managedFields must be nil");
        }

        string? bodyName = config["metadata"]?["name"]?.ToString();
        if (bodyName != name)
        {
            throw ApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        if (config["metadata"]?["namespace"]?.ToString() is { Length: > 0 } bodyNamespace && bodyNamespace != ns)
        {
            throw ApiException.BadRequest($"the namespace of the provided object does not match the namespace sent on the request");
        }

        FieldValidation.Check(http, config, typeof(T), Kind.Kind, Kind.Version);
        return config;
    }
}
