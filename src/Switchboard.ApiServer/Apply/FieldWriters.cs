using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.OpenApi;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Apply;

/// <summary>The <see cref="FieldWriter"/> of a request: an Update by its field manager, or an Apply.</summary>
internal static class FieldWriters
{
    public static readonly FieldWriter Apply = new(isApply: true, track: null);

    /// <summary>The Update writer of a POST, PUT or non-apply PATCH (fieldManager, else the User-Agent's product).</summary>
    public static FieldWriter Update(HttpContext http, ResourceKind kind)
    {
        string manager = ManagedFields.UpdateManager(http.Request.Query["fieldManager"], http.Request.Headers.UserAgent);
        var shape = ModelShape.Of(kind.ModelType);
        return new FieldWriter(isApply: false, (old, updated, subresource, now) => ManagedFields.Update(old, updated, shape, manager, kind.GroupVersion, subresource, now));
    }
}
