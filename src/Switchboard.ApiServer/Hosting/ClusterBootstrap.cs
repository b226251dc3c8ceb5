using k8s.Models;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Errors;
using Switchboard.Kube.Rbac;

namespace Switchboard.ApiServer.Hosting;

/// <summary>
/// What a fresh cluster has from the first start: namespaces default, kube-system and kube-public, and the
/// <c>kubernetes</c> Service on the first address of the service range pointing at this API server, and the default
/// RBAC policy (<see cref="BootstrapPolicy"/>), reconciled at every start as kube-apiserver's: a default role or binding
/// marked <c>autoupdate</c> gets back the rules or subjects it lacks. Written through the registry's stores, with the
/// defaults, validation and allocation every write gets.
/// </summary>
internal static class ClusterBootstrap
{
    /// <summary>Brings the cluster to its defaults; with an <paramref name="advertiseAddress"/>, the kubernetes Service's endpoint too.</summary>
    public static async Task EnsureAsync(ResourceCatalog catalog, string? advertiseAddress, int port, CancellationToken cancellationToken)
    {
        // Written together, the store commits them together: one sync to disk on the way to serving, not one each.
        await Task.WhenAll(new[] { "default", "kube-system", "kube-public", "kube-node-lease" }.Select(name =>
            CreateIfMissingAsync(() => catalog.Namespaces.CreateAsync(null, new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, false, cancellationToken))));
        await Task.WhenAll(EnsureServiceAsync(catalog, port, cancellationToken), advertiseAddress is null ? Task.CompletedTask : PublishEndpointsAsync(catalog, advertiseAddress, port, cancellationToken));
        await Task.WhenAll(
            BootstrapPolicy.WithAggregation(BootstrapPolicy.ClusterRoles).Select(role => EnsureClusterRoleAsync(catalog, role, cancellationToken))
                .Concat(BootstrapPolicy.ClusterRoleBindings.Select(binding => EnsureClusterRoleBindingAsync(catalog, binding, cancellationToken))));
    }

    private static async Task EnsureClusterRoleAsync(ResourceCatalog catalog, V1ClusterRole role, CancellationToken cancellationToken)
    {
        if (await catalog.ClusterRoles.TryGetAsync(null, role.Metadata.Name, cancellationToken) is not { } existing)
        {
            await CreateIfMissingAsync(() => catalog.ClusterRoles.CreateAsync(null, role, false, cancellationToken));
            return;
        }

        var missing = (role.Rules ?? []).Where(rule => !(existing.Rules ?? []).Any(r => ClusterRoleAggregation.SameRule(r, rule))).ToList();
        if (AutoUpdates(existing.Metadata) && missing.Count > 0)
        {
            await catalog.ClusterRoles.UpdateWithAsync(null, role.Metadata.Name, null, current =>
            {
                current.Rules = [.. current.Rules ?? [], .. missing.Where(rule => !(current.Rules ?? []).Any(r => ClusterRoleAggregation.SameRule(r, rule)))];
                return current;
            }, null, false, cancellationToken);
        }
    }

    private static async Task EnsureClusterRoleBindingAsync(ResourceCatalog catalog, V1ClusterRoleBinding binding, CancellationToken cancellationToken)
    {
        if (await catalog.ClusterRoleBindings.TryGetAsync(null, binding.Metadata.Name, cancellationToken) is not { } existing)
        {
            await CreateIfMissingAsync(() => catalog.ClusterRoleBindings.CreateAsync(null, binding, false, cancellationToken));
            return;
        }

        static bool Has(IEnumerable<Rbacv1Subject>? subjects, Rbacv1Subject subject) => (subjects ?? []).Any(s => s.Kind == subject.Kind && s.Name == subject.Name && s.NamespaceProperty == subject.NamespaceProperty);
        if (AutoUpdates(existing.Metadata) && binding.Subjects.Any(s => !Has(existing.Subjects, s)))
        {
            await catalog.ClusterRoleBindings.UpdateWithAsync(null, binding.Metadata.Name, null, current =>
            {
                current.Subjects = [.. current.Subjects ?? [], .. binding.Subjects.Where(s => !Has(current.Subjects, s))];
                return current;
            }, null, false, cancellationToken);
        }
    }

    private static bool AutoUpdates(V1ObjectMeta meta) => meta.Annotations is null || !meta.Annotations.TryGetValue("rbac.authorization.kubernetes.io/autoupdate", out string? value) || value != "false";

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

    /// <summary>
    /// The kubernetes Service's Endpoints and EndpointSlice (which the proxies follow), at the API server's current
    /// address and port, as kube-apiserver's endpoint reconciler writes them.
    /// </summary>
    public static async Task PublishEndpointsAsync(ResourceCatalog catalog, string advertiseAddress, int port, CancellationToken cancellationToken)
    {
        var endpoints = new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "kubernetes", Labels = new Dictionary<string, string> { ["endpointslice.kubernetes.io/skip-mirror"] = "true" } },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = advertiseAddress }], Ports = [new Corev1EndpointPort { Name = "https", Port = port, Protocol = "TCP" }] }],
        };
        await catalog.Endpoints.UpdateAsync("default", "kubernetes", endpoints, null, false, cancellationToken);
        var slice = new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta { Name = "kubernetes", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "kubernetes" } },
            AddressType = "IPv4",
            Endpoints = [new V1Endpoint { Addresses = [advertiseAddress], Conditions = new V1EndpointConditions { Ready = true } }],
            Ports = [new Discoveryv1EndpointPort { Name = "https", Port = port, Protocol = "TCP" }],
        };
        if (await catalog.EndpointSlices.TryGetAsync("default", "kubernetes", cancellationToken) is null)
        {
            await CreateIfMissingAsync(() => catalog.EndpointSlices.CreateAsync("default", slice, false, cancellationToken));
        }

        await catalog.EndpointSlices.UpdateWithAsync("default", "kubernetes", null, current =>
        {
            current.Metadata.Labels = slice.Metadata.Labels;
            current.AddressType = slice.AddressType;
            current.Endpoints = slice.Endpoints;
            current.Ports = slice.Ports;
            return current;
        }, null, false, cancellationToken);
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
