using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;

namespace Switchboard.Node;

public static class NodeServices
{
    /// <summary>The node agent as a component of the host, a client of the API server the host's <see cref="KubeClientSource"/> reaches.</summary>
    public static IServiceCollection AddNode(this IServiceCollection services, NodeOptions options) =>
        services.AddComponent(NodeAgent.ComponentName, provider => new NodeAgent(
            options,
            provider.KubeClientFor(NodeAgent.ComponentName),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
}
