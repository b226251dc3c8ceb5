using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;
using Switchboard.Storage;

namespace Switchboard.ApiServer;

public static class ApiServerServices
{
    /// <summary>The API server over <paramref name="store"/> as a component of the host (<see cref="ApiServerService"/>).</summary>
    public static IServiceCollection AddApiServer(this IServiceCollection services, ApiServerOptions options, IKeyValueStore store) =>
        services.AddComponent(ApiServerService.ComponentName, provider => new ApiServerService(
            options,
            store,
            provider.GetRequiredService<MetricsRegistry>(),
            provider.GetRequiredService<Readiness>(),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
}
