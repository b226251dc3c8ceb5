using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;
using Switchboard.Storage;

namespace Switchboard.Dns;

public static class DnsServices
{
    /// <summary>
    /// The cluster DNS server as a component of the host, a client of the API server the host's
    /// <see cref="KubeClientSource"/> reaches; with <paramref name="skyDnsStore"/> it also serves and mirrors /skydns.
    /// </summary>
    public static IServiceCollection AddClusterDns(this IServiceCollection services, DnsServiceOptions options, IKeyValueStore? skyDnsStore = null) =>
        services.AddComponent(DnsService.ComponentName, provider => new DnsService(
            options,
            provider.KubeClientFor(DnsService.ComponentName),
            provider.GetRequiredService<MetricsRegistry>(),
            skyDnsStore,
            provider.GetRequiredService<Readiness>(),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
}
