using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Apply;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Http;

/// <summary>create, update (PUT, also of /status and a namespace's /finalize), delete and deletecollection.</summary>
internal sealed class WriteHandler<T>(ResourceStore<T> store, ResourceResponses<T> responses)
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private ResourceKind Kind => store.Kind;

    public async Task CreateAsync(HttpContext http, string? ns)
    {
        var obj = await ReadObjectAsync(http);
        var created = await store.CreateAsync(ns, obj, RequestQuery.IsDryRun(http), http.RequestAborted, FieldWriters.Update(http, Kind));
        await responses.WriteObjectAsync(http, 201, created);
    }

    public async Task UpdateAsync(HttpContext http, string? ns, string name, string? subresource)
    {
        var obj = await ReadObjectAsync(http);
        var updated = await store.UpdateAsync(ns, name, obj, subresource, RequestQuery.IsDryRun(http), http.RequestAborted, FieldWriters.Update(http, Kind));
        await responses.WriteObjectAsync(http, 200, updated);
    }

    public async Task DeleteAsync(HttpContext http, string? ns, string name)
    {
        var deleted = await store.DeleteAsync(ns, name, await ReadDeleteRequestAsync(http), http.RequestAborted);
        await responses.WriteObjectAsync(http, 200, deleted);
    }

    public async Task DeleteCollectionAsync(HttpContext http, string? ns)
    {
        var (labels, fields) = RequestQuery.Selectors(http, store);
        var options = await ReadDeleteRequestAsync(http);
        var result = await store.ListAsync(ns, labels, fields, 0, null, 0, http.RequestAborted);
        var deleted = new List<T>();
        foreach (var item in result.Items)
        {
            try
            {
                deleted.Add(await store.DeleteAsync(item.Metadata.NamespaceProperty, item.Metadata.Name, options, http.RequestAborted));
            }
            catch (ApiException e) when (e.Code == 404)
            {
                // Deleted concurrently: nothing left to do for it.
            }
        }

        await responses.WriteListAsync(http, deleted, result.Revision);
    }

    private Task<T> ReadObjectAsync(HttpContext http) => RequestBody.ReadObjectAsync<T>(http, Kind.Kind, Kind.Version, Kind.GroupVersion);

    private static async Task<DeleteRequest> ReadDeleteRequestAsync(HttpContext http) =>
        DeleteRequestOf(http, await RequestBody.ReadOptionsAsync(http, "DeleteOptions"));

    /// <summary>The DeleteOptions of <paramref name="body"/> (null: none), the query's parameters filling what it leaves out.</summary>
    internal static DeleteRequest DeleteRequestOf(HttpContext http, JsonNode? body)
    {
        var query = http.Request.Query;
        long? grace = body?["gracePeriodSeconds"]?.GetValue<long>() ?? (long.TryParse(query["gracePeriodSeconds"], out long g) ? g : null);
        string? policy = body?["propagationPolicy"]?.ToString() ?? (query["propagationPolicy"].ToString() is { Length: > 0 } p ? p : null);
        if (policy is null && body?["orphanDependents"]?.GetValue<bool>() == true)
        {
            policy = "Orphan";
        }

        bool dryRun = RequestQuery.IsDryRun(http) || (body?["dryRun"] is JsonArray d && d.Any(v => v?.ToString() == "All"));
        return new DeleteRequest(policy, grace, body?["preconditions"]?["uid"]?.ToString(), body?["preconditions"]?["resourceVersion"]?.ToString(), dryRun);
    }
}
