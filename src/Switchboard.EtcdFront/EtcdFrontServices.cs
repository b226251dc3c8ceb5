using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Hosting;
using Switchboard.Storage;

namespace Switchboard.EtcdFront;

public static class EtcdFrontServices
{
    /// <summary>The etcd v3 front over <paramref name="store"/> as a component of the host (<see cref="EtcdFrontService"/>); add it after the API server.</summary>
    public static IServiceCollection AddEtcdFront(this IServiceCollection services, EtcdFrontOptions options, IKeyValueStore store) =>
        services.AddComponent(EtcdFrontService.ComponentName, provider => new EtcdFrontService(
            options,
            store,
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
}
