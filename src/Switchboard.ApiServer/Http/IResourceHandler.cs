using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Requests;

namespace Switchboard.ApiServer.Http;

/// <summary>The non-generic face of <see cref="ResourceHandler{T}"/> that the router dispatches to.</summary>
internal interface IResourceHandler
{
    ResourceKind Kind { get; }

    Task HandleAsync(HttpContext http, RequestInfo request);
}
