using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Streaming;

/// <summary>
/// kube-apiserver's <c>services/NAME:PORT/proxy/PATH</c> for the services the options name
/// (the options' <c>ProxiedServices</c>): the request, authenticated here like any other, goes on to
/// the component's plain-HTTP operations port and its answer streams back chunk by chunk (a followed
/// <c>/trace</c> stays open as long as the client reads). Pulling through the API server means a component in
/// another process or on another node needs only a port the API server reaches, and nothing is sent while no one asks.
/// </summary>
internal sealed class ServiceProxy(IReadOnlyDictionary<string, Uri> targets) : IDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(10) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public async Task ForwardAsync(HttpContext http, string serviceNamespace, string service, IEnumerable<string> path)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!HttpMethods.IsGet(http.Request.Method))
        {
            throw ApiException.MethodNotAllowed(http.Request.Method, "services/proxy");
        }

        if (!targets.TryGetValue(serviceNamespace + "/" + service, out Uri? target))
        {
            string name = service.Split(':')[0];
            throw ApiException.Unavailable($"no endpoints available for service \"{name}\"");
        }

        var uri = new UriBuilder(target)
        {
            Path = "/" + string.Join('/', path.Select(Uri.EscapeDataString)),
            Query = http.Request.QueryString.Value?.TrimStart('?') ?? "",
        };
        await ForwardToAsync(http, uri.Uri);
    }

    /// <summary>A GET to <paramref name="target"/> over plain HTTP, its answer streamed back (also <c>nodes/NAME:PORT/proxy</c>).</summary>
    public async Task ForwardToAsync(HttpContext http, Uri target)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!HttpMethods.IsGet(http.Request.Method))
        {
            throw ApiException.MethodNotAllowed(http.Request.Method, "proxy");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            throw ApiException.Unavailable($"error trying to reach service: {e.Message}", e);
        }

        using (response)
        {
            await KubeletProxy.RelayAsync(http, response);
        }
    }

    public void Dispose() => _client.Dispose();
}
