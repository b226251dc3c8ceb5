using k8s.Models;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Hosting;

/// <summary>
/// What a fresh cluster has from the first start: namespaces default, kube-system and kube-public, and the
/// <c>kubernetes</c> Service on the first address of the service range pointing at this API server. Written through
/// the registry's stores, with the defaults, validation and allocation every write gets.
/// </summary>
internal static class ClusterBootstrap
{
    public static async Task EnsureAsync(ResourceCatalog catalog, string advertiseAddress, int port, CancellationToken cancellationToken)
    {
        // Written together, the store commits them together: one sync to disk on the way to serving, not one each.
        await Task.WhenAll(new[] { "default", "kube-system", "kube-public", "kube-node-lease" }.Select(name =>
            CreateIfMissingAsync(() => catalog.Namespaces.CreateAsync(null, new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, false, cancellationToken))));
        await Task.WhenAll(EnsureServiceAsync(catalog, port, cancellationToken), EnsureEndpointsAsync(catalog, advertiseAddress, port, cancellationToken));
    }

    private static async Task EnsureServiceAsync(ResourceCatalog catalog, int port, CancellationToken cancellationToken)
    {
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta
            {
                Name = "kubernetes",
                Labels = new Dictionary<string, string> { ["component"] = "apiserver", ["provider"] = "kubernetes" },
            },
            Spec = new V1ServiceSpec
            {
                ClusterIP = catalog.ClusterIps.AddressAt(0).ToString(),
                Ports = [new V1ServicePort { Name = "https", Port = 443, Protocol = "TCP", TargetPort = port }],
            },
        };
        if (await catalog.Services.TryGetAsync("default", "kubernetes", cancellationToken) is null)
        {
            await CreateIfMissingAsync(() => catalog.Services.CreateAsync("default", service, false, cancellationToken));
        }
    }

    private static async Task EnsureEndpointsAsync(ResourceCatalog catalog, string advertiseAddress, int port, CancellationToken cancellationToken)
    {
        // The endpoints follow the API server's current address and port.
        var endpoints = new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "kubernetes", Labels = new Dictionary<string, string> { ["endpointslice.kubernetes.io/skip-mirror"] = "true" } },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = advertiseAddress }], Ports = [new Corev1EndpointPort { Name = "https", Port = port, Protocol = "TCP" }] }],
        };
        await catalog.Endpoints.UpdateAsync("default", "kubernetes", endpoints, null, false, cancellationToken);
    }

    private static async Task CreateIfMissingAsync(Func<Task> create)
    {
        try
        {
            await create();
        }
        catch (ApiException e) when (e.Status.Reason == "AlreadyExists")
        {
            // Created by an earlier start.
        }
    }
}
