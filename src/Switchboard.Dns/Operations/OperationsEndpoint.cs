using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Switchboard.Dns.Operations;

/// <summary>
/// A small plain-HTTP listener (loopback by default): <c>/metrics</c> in Prometheus text format, <c>/health</c>
/// (200 while the process serves, as CoreDNS's health plugin) and <c>/ready</c> (200 once synced, else 503).
/// </summary>
internal sealed class OperationsEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OperationsEndpoint(WebApplication app, IPEndPoint endPoint)
    {
        _app = app;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public static async Task<OperationsEndpoint> StartAsync(IPEndPoint endPoint, DnsMetrics metrics, Func<CancellationToken, Task<bool>> ready, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(endPoint);
        });
        WebApplication app = builder.Build();
        app.Run(context => ServeAsync(context, metrics, ready));
        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new OperationsEndpoint(app, new IPEndPoint(endPoint.Address, new Uri(address).Port));
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private static async Task ServeAsync(HttpContext context, DnsMetrics metrics, Func<CancellationToken, Task<bool>> ready)
    {
        HttpResponse response = context.Response;
        switch (context.Request.Path.Value)
        {
            case "/metrics":
                response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                var text = new StringWriter(new StringBuilder(4096));
                metrics.WriteTo(text);
                await response.WriteAsync(text.ToString(), context.RequestAborted);
                return;
            case "/health":
                await response.WriteAsync("OK", context.RequestAborted);
                return;
            case "/ready":
                bool isReady = await ready(context.RequestAborted);
                response.StatusCode = isReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
                await response.WriteAsync(isReady ? "OK" : "not synced", context.RequestAborted);
                return;
            default:
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
        }
    }
}
