using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.ApiServer.Hosting;
using Switchboard.ApiServer.Http;
using Switchboard.ApiServer.Metrics;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Security;
using Switchboard.Kube.Metrics;
using Switchboard.Storage;

namespace Switchboard.ApiServer;

/// <summary>
/// The running Kubernetes-compatible API server: HTTPS with a generated CA, bearer-token auth, and the REST API over
/// an <see cref="IKeyValueStore"/>. Writes DATA_DIR/kubeconfig once it serves.
/// </summary>
public sealed partial class ApiServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly Task _repair;
    private readonly ApiServerMetrics _metrics;
    private readonly MetricsRegistry? _ownRegistry;

    private ApiServerHost(WebApplication app, CancellationTokenSource stopping, Task repair, ApiServerMetrics metrics, MetricsRegistry? ownRegistry, Uri url, string kubeconfigPath)
    {
        _app = app;
        _metrics = metrics;
        _ownRegistry = ownRegistry;
        _stopping = stopping;
        _repair = repair;
        Url = url;
        KubeconfigPath = kubeconfigPath;
    }

    /// <summary>The HTTPS URL the server answers on.</summary>
    public Uri Url { get; }

    /// <summary>DATA_DIR/kubeconfig: CA data, server URL and the admin token.</summary>
    public string KubeconfigPath { get; }

    public static async Task<ApiServerHost> StartAsync(ApiServerOptions options, IKeyValueStore store, ILoggerFactory? loggerFactory = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        loggerFactory ??= NullLoggerFactory.Instance;
        time ??= TimeProvider.System;
        var logger = loggerFactory.CreateLogger<ApiServerHost>();

        var credentials = ClusterCredentials.LoadOrCreate(options.DataDirectory, time);
        var stopping = new CancellationTokenSource();
        var context = new RegistryContext(store, time, new Random(), stopping.Token) { BookmarkInterval = options.WatchBookmarkInterval };
        var catalog = new ResourceCatalog(context, options, loggerFactory);

        // Before any write is taken: allocations a crash left behind are found (and released a repair interval later).
        await catalog.Repair.RunOnceAsync(cancellationToken);
        MetricsRegistry? ownRegistry = options.Metrics is null ? new MetricsRegistry() : null;
        var metrics = new ApiServerMetrics(options.Metrics ?? ownRegistry!, store, catalog.Handlers.Select(h => h.Kind), time);
        var handler = new ApiRequestHandler(credentials, catalog.Handlers, options.Readiness.Check, metrics, logger);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = StorageLimits.MaxValueBytes * 2L;
            kestrel.Listen(options.Address, options.Port, listen => listen.UseHttps(credentials.ServingCertificate));
        });
        var app = builder.Build();
        app.Use(metrics.InvokeAsync);
        app.Run(handler.InvokeAsync);

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int port = new Uri(address).Port;
        string host = options.Address.Equals(IPAddress.Any) ? "127.0.0.1" : options.Address.ToString();
        var url = new Uri($"https://{(options.Address.Equals(IPAddress.IPv6Loopback) ? "[::1]" : host)}:{port}");

        await ClusterBootstrap.EnsureAsync(catalog, host, port, cancellationToken);
        string kubeconfig = Kubeconfig.Write(options.DataDirectory, url, credentials);
        LogServing(logger, url, kubeconfig);
        var repair = catalog.Repair.RunPeriodicallyAsync(options.AllocationRepairInterval, stopping.Token);
        return new ApiServerHost(app, stopping, repair, metrics, ownRegistry, url, kubeconfig);
    }

    public async ValueTask DisposeAsync()
    {
        // Open watches end first, as kube-apiserver closes them on shutdown; clients then list and watch again.
        await _stopping.CancelAsync();
        await _repair;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
        _metrics.Dispose();
        _ownRegistry?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API server serving on {Url}; kubeconfig at {Kubeconfig}")]
    private static partial void LogServing(ILogger logger, Uri url, string kubeconfig);
}
