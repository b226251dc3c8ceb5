using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Selectors;
using Switchboard.Kube.Selectors;

namespace Switchboard.ApiServer.Http;

/// <summary>The query parameters several verbs share: dryRun, boolean flags and the selectors of a collection.</summary>
internal static class RequestQuery
{
    public static bool IsTrue(string? value) => value is "true" or "1";

    public static bool IsDryRun(HttpContext http) => http.Request.Query["dryRun"].Any(v => v == "All");

    /// <summary>labelSelector and fieldSelector, the field selector checked against what the kind can select on (400).</summary>
    public static (LabelSelector Labels, FieldSelector Fields) Selectors<T>(HttpContext http, ResourceStore<T> store)
        where T : class, IKubernetesObject<V1ObjectMeta>, new()
    {
        var query = http.Request.Query;
        var labels = LabelSelectorParameter.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"]);
        store.CheckFieldSelector(fields);
        return (labels, fields);
    }
}
