using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Http;

/// <summary>get and list (limit/continue, resourceVersionMatch=Exact, selectors).</summary>
internal sealed class ReadHandler<T>(ResourceStore<T> store, ResourceResponses<T> responses)
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    public async Task GetAsync(HttpContext http, string? ns, string name) =>
        await responses.WriteObjectAsync(http, 200, await store.GetAsync(ns, name, http.RequestAborted));

    public async Task ListAsync(HttpContext http, string? ns)
    {
        var query = http.Request.Query;
        var (labels, fields) = RequestQuery.Selectors(http, store);
        long limit = long.TryParse(query["limit"], out long l) && l > 0 ? l : 0;
        long revision = query["resourceVersionMatch"] == "Exact" && long.TryParse(query["resourceVersion"], out long rv) ? rv : 0;
        var page = await store.ListAsync(ns, labels, fields, limit, query["continue"], revision, http.RequestAborted);
        await responses.WritePageAsync(http, page);
    }
}
