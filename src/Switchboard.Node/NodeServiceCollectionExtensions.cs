using Microsoft.Extensions.DependencyInjection;

namespace Switchboard.Node;

/// <summary>Composition: <c>services.AddNode(options)</c> adds the node agent to a Generic Host.</summary>
public static class NodeServiceCollectionExtensions
{
    public static IServiceCollection AddNode(this IServiceCollection services, NodeOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<NodeAgent>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeAgent>());
        return services;
    }
}
