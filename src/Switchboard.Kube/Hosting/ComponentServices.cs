using System.Net;
using k8s;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Metrics;

namespace Switchboard.Kube.Hosting;

/// <summary>How a component joins a process's host: the <c>Add…</c> method of each component calls <see cref="AddComponent"/>.</summary>
public static class ComponentServices
{
    /// <summary>Registers <typeparamref name="T"/> as a hosted service, started in the order added, and its readiness check as <paramref name="name"/>.</summary>
    public static IServiceCollection AddComponent<T>(this IServiceCollection services, string name, Func<IServiceProvider, T> create)
        where T : Component
    {
        services.AddSingleton(create);
        services.AddHostedService(provider => provider.GetRequiredService<T>());
        services.AddHealthChecks().Add(new HealthCheckRegistration(name, provider => provider.GetRequiredService<T>(), HealthStatus.Unhealthy, [Readiness.Tag]));
        services.TryAddSingleton<Readiness>();
        services.TryAddSingleton<MetricsRegistry>();
        return services;
    }

    /// <summary>Serves the process's <c>/metrics</c> and <c>/healthz</c> on <paramref name="address"/>, as a component of its own.</summary>
    /// <paramref name="routes"/>, when given, makes handlers that answer their paths whole (kube-proxy's JSON <c>/healthz</c>).
    public static IServiceCollection AddMetricsEndpoint(
        this IServiceCollection services, IPEndPoint address, Func<IServiceProvider, IReadOnlyDictionary<string, RequestDelegate>>? routes = null) =>
        services.AddComponent(MetricsEndpoint.ComponentName, provider => new MetricsEndpoint(
            address,
            provider.GetRequiredService<MetricsRegistry>(),
            provider.GetRequiredService<Readiness>(),
            provider.GetRequiredService<ILoggerFactory>(),
            routes?.Invoke(provider)));

    /// <summary>The API client the process's components share, built from <paramref name="kubeconfigPath"/> when the first one starts.</summary>
    public static IServiceCollection AddKubeClient(this IServiceCollection services, string kubeconfigPath) =>
        services.AddKubeClient(_ => KubeClients.FromKubeconfig(kubeconfigPath));

    /// <summary>The API client the process's components share, made by <paramref name="create"/> when the first one starts.</summary>
    public static IServiceCollection AddKubeClient(this IServiceCollection services, Func<IServiceProvider, IKubernetes> create)
    {
        services.AddSingleton(provider => new KubeClientSource(() => create(provider)));
        return services;
    }

    /// <summary>
    /// The API client of one component (by its name), made by <paramref name="create"/> when it starts: in <c>up</c>
    /// each component authenticates as an identity of its own, so RBAC grants each only what it needs. Its informers are
    /// the process's (those of the shared client, when there is one): one watch and one cache per collection, whichever
    /// component asked for it first, rather than one per component.
    /// </summary>
    public static IServiceCollection AddKubeClient(this IServiceCollection services, string component, Func<IServiceProvider, IKubernetes> create)
    {
        services.AddKeyedSingleton(component, (provider, _) => new KubeClientSource(() => create(provider), provider.GetService<KubeClientSource>()?.Informers));
        return services;
    }

    /// <summary>The client of <paramref name="component"/>: its own when one was added for it, else the process's shared one.</summary>
    public static KubeClientSource KubeClientFor(this IServiceProvider provider, string component) =>
        provider.GetKeyedService<KubeClientSource>(component) ?? provider.GetRequiredService<KubeClientSource>();
}
