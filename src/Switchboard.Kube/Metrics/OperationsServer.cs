using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Switchboard.Kube.Metrics;

/// <summary>
/// A component's small plain-HTTP listener, loopback by default as CoreDNS's :9153 and kube-proxy's :10249:
/// <c>/metrics</c> (the process's registry) and named checks such as <c>/health</c> and <c>/ready</c>
/// (200 <c>OK</c> while the check holds, else 503).
/// </summary>
public sealed class OperationsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OperationsServer(WebApplication app, IPEndPoint endPoint)
    {
        _app = app;
        EndPoint = endPoint;
    }

    /// <summary>The bound address (the port resolved when 0 was asked for).</summary>
    public IPEndPoint EndPoint { get; }

    public static Task<OperationsServer> StartAsync(
        IPEndPoint endPoint, MetricsRegistry metrics, IReadOnlyDictionary<string, Func<CancellationToken, Task<bool>>> checks, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        StartAsync(endPoint, metrics, checks, new Dictionary<string, RequestDelegate>(), loggerFactory, cancellationToken);

    /// <summary>As the other overload, plus <paramref name="routes"/>: paths whose handler writes the whole response (kube-proxy's JSON <c>/healthz</c>).</summary>
    public static Task<OperationsServer> StartAsync(
        IPEndPoint endPoint,
        MetricsRegistry metrics,
        IReadOnlyDictionary<string, Func<CancellationToken, Task<bool>>> checks,
        IReadOnlyDictionary<string, RequestDelegate> routes,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return StartAsync(kestrel => kestrel.Listen(endPoint), endPoint.Address, metrics, checks, routes, loggerFactory, cancellationToken);
    }

    /// <summary>Serves on a socket already bound and listening, such as one made inside a node's network namespace.</summary>
    public static Task<OperationsServer> StartAsync(
        Socket listening,
        MetricsRegistry metrics,
        IReadOnlyDictionary<string, Func<CancellationToken, Task<bool>>> checks,
        IReadOnlyDictionary<string, RequestDelegate> routes,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listening);
        var bound = (IPEndPoint)listening.LocalEndPoint!;
        return StartAsync(kestrel => kestrel.ListenHandle((ulong)listening.Handle), bound.Address, metrics, checks, routes, loggerFactory, cancellationToken);
    }

    /// <summary>Writes a scrape of <paramref name="metrics"/> as the response (also the API server's <c>/metrics</c>).</summary>
    public static async Task WriteMetricsAsync(HttpContext context, MetricsRegistry metrics)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(metrics);
        string text = await metrics.ScrapeAsync(context.RequestAborted);
        context.Response.ContentType = PrometheusText.ContentType;
        await context.Response.WriteAsync(text, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private static async Task<OperationsServer> StartAsync(
        Action<KestrelServerOptions> listen,
        IPAddress address,
        MetricsRegistry metrics,
        IReadOnlyDictionary<string, Func<CancellationToken, Task<bool>>> checks,
        IReadOnlyDictionary<string, RequestDelegate> routes,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(checks);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            listen(kestrel);
        });
        WebApplication app = builder.Build();
        app.Run(context => routes.TryGetValue(context.Request.Path.Value ?? "/", out RequestDelegate? route) ? route(context) : ServeAsync(context, metrics, checks));
        await app.StartAsync(cancellationToken);
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new OperationsServer(app, new IPEndPoint(address, new Uri(bound).Port));
    }

    private static async Task ServeAsync(HttpContext context, MetricsRegistry metrics, IReadOnlyDictionary<string, Func<CancellationToken, Task<bool>>> checks)
    {
        HttpResponse response = context.Response;
        string path = context.Request.Path.Value ?? "/";
        if (path == "/metrics")
        {
            await WriteMetricsAsync(context, metrics);
            return;
        }

        if (!checks.TryGetValue(path, out Func<CancellationToken, Task<bool>>? check))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        bool ok = await check(context.RequestAborted);
        response.StatusCode = ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        await response.WriteAsync(ok ? "OK" : "not ready", context.RequestAborted);
    }
}
