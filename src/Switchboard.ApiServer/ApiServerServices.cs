using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;
using Switchboard.Storage;

namespace Switchboard.ApiServer;

public static class ApiServerServices
{
    /// <summary>
    /// The API server over <paramref name="store"/> as a component of the host (<see cref="ApiServerService"/>); its web
    /// view shares the host's <see cref="KubeClientSource"/> informers when the host has one.
    /// </summary>
    public static IServiceCollection AddApiServer(this IServiceCollection services, ApiServerOptions options, IKeyValueStore store) =>
        services.AddComponent(ApiServerService.ComponentName, provider => new ApiServerService(
            options,
            store,
            provider.GetRequiredService<MetricsRegistry>(),
            provider.GetRequiredService<Readiness>(),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System,

            // Resolved when the API server opens: the process's client is made from this server's configuration.
            () => provider.GetService<KubeClientSource>()));
}
