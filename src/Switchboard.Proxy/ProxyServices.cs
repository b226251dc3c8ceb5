using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;
using Switchboard.Proxy.Trace;

namespace Switchboard.Proxy;

public static class ProxyServices
{
    /// <summary>The service proxy as a component of the host, a client of the API server the host's <see cref="KubeClientSource"/> reaches.</summary>
    public static IServiceCollection AddProxy(this IServiceCollection services, ProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // kube-proxy's health timeout: twice the sync period.
        services.TryAddSingleton(provider => new ProxyHealth(provider.GetService<TimeProvider>() ?? TimeProvider.System, 2 * options.SyncPeriod));
        if (options.TraceBuffer > 0)
        {
            services.TryAddSingleton(provider => new ConnectionTrace(
                options.TraceBuffer, options.NodeName, provider.GetService<TimeProvider>() ?? TimeProvider.System, provider.GetRequiredService<MetricsRegistry>()));
        }

        return services.AddComponent(ProxyService.ComponentName, provider => new ProxyService(
            options,
            provider.KubeClientFor(ProxyService.ComponentName),
            provider.GetRequiredService<MetricsRegistry>(),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetRequiredService<ProxyHealth>(),
            provider.GetService<ConnectionTrace>()));
    }
}
