using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;

namespace Switchboard.Controllers;

public static class ControllerServices
{
    /// <summary>The controller manager as a component of the host, a client of the API server the host's <see cref="KubeClientSource"/> reaches.</summary>
    public static IServiceCollection AddControllers(this IServiceCollection services, ControllerOptions options) =>
        services.AddComponent(ControllerManager.ComponentName, provider => new ControllerManager(
            options, provider.KubeClientFor(ControllerManager.ComponentName), provider.GetRequiredService<MetricsRegistry>(), provider.GetRequiredService<ILoggerFactory>()));
}
