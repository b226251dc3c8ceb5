using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Networking;

namespace Switchboard.Dns.InCluster;

/// <summary>
/// Makes the in-process DNS server the endpoint of <c>kube-system/kube-dns</c>, as CoreDNS's pods are on a real
/// cluster: creates the Service (ClusterIP 10.96.0.10; ports dns, dns-tcp and metrics) if it is missing, then writes
/// its Endpoints and EndpointSlice with the node's gateway address. The Service has no selector, so the endpoint
/// controllers leave those objects to us; pods then resolve through the same VIP and proxy rules as any Service.
/// </summary>
internal sealed partial class KubeDnsRegistration(IKubernetes client, InClusterDnsOptions options, ILogger logger, TimeProvider time)
{
    public const string Namespace = "kube-system";
    public const string Name = "kube-dns";
    public const int DnsPort = 53;
    public const int MetricsPort = 9153;
    public const string MetricsPortName = "metrics";

    /// <summary>The managed-by value of our EndpointSlice: not the endpointslice controller's, so it leaves the slice alone.</summary>
    private const string ManagedBy = "switchboard-dns";

    private static readonly (string Name, string Protocol, int Port)[] Ports = [("dns", "UDP", DnsPort), ("dns-tcp", "TCP", DnsPort), (MetricsPortName, "TCP", MetricsPort)];

    /// <summary>Publishes <paramref name="gateway"/> (from <see cref="WaitForGatewayAsync"/>) as kube-dns's endpoint.</summary>
    public async Task PublishAsync(IPAddress gateway, CancellationToken cancellationToken)
    {
        await EnsureServiceAsync(cancellationToken);
        await WriteEndpointsAsync(gateway, cancellationToken);
        await WriteSliceAsync(gateway, cancellationToken);
        LogPublished(logger, options.ServiceIp, gateway, options.NodeName);
    }

    private async Task EnsureServiceAsync(CancellationToken cancellationToken)
    {
        var existing = await ReadOrNullAsync(() => client.CoreV1.ReadNamespacedServiceAsync(Name, Namespace, cancellationToken: cancellationToken));
        if (existing is not null)
        {
            if (existing.Spec?.ClusterIP != options.ServiceIp.ToString())
            {
                LogUnexpectedClusterIp(logger, existing.Spec?.ClusterIP, options.ServiceIp);
            }

            return;
        }

        var service = new V1Service
        {
            Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace, Labels = Labels() },
            Spec = new V1ServiceSpec
            {
                ClusterIP = options.ServiceIp.ToString(),
                Ports = [.. Ports.Select(p => new V1ServicePort { Name = p.Name, Protocol = p.Protocol, Port = p.Port, TargetPort = p.Port })],
            },
        };
        try
        {
            await client.CoreV1.CreateNamespacedServiceAsync(service, Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Made meanwhile by another instance: as good as ours.
        }
    }

    /// <summary>The node registers with its pod CIDR; the bridge's address in it (the first host) is where pods reach the node.</summary>
    public async Task<IPAddress> WaitForGatewayAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var node = await ReadOrNullAsync(() => client.CoreV1.ReadNodeAsync(options.NodeName, cancellationToken: cancellationToken));
            if (node?.Spec?.PodCIDR is { } text && Ipv4Cidr.TryParse(text, out var podCidr))
            {
                return podCidr.AddressAt(1);
            }

            await Task.Delay(options.Poll, time, cancellationToken);
        }
    }

    private async Task WriteEndpointsAsync(IPAddress gateway, CancellationToken cancellationToken)
    {
        var endpoints = new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace, Labels = Labels() },
            Subsets =
            [
                new V1EndpointSubset
                {
                    Addresses = [new V1EndpointAddress { Ip = gateway.ToString(), NodeName = options.NodeName }],
                    Ports = [.. Ports.Select(p => new Corev1EndpointPort { Name = p.Name, Protocol = p.Protocol, Port = p.Port })],
                },
            ],
        };

        // PUT creates a missing Endpoints object, as for the kubernetes Service's.
        await client.CoreV1.ReplaceNamespacedEndpointsAsync(endpoints, Name, Namespace, cancellationToken: cancellationToken);
    }

    private async Task WriteSliceAsync(IPAddress gateway, CancellationToken cancellationToken)
    {
        var labels = Labels();
        labels["kubernetes.io/service-name"] = Name;
        labels["endpointslice.kubernetes.io/managed-by"] = ManagedBy;
        var slice = new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta { Name = Name + "-" + options.NodeName, NamespaceProperty = Namespace, Labels = labels },
            AddressType = "IPv4",
            Endpoints =
            [
                new V1Endpoint
                {
                    Addresses = [gateway.ToString()],
                    Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false },
                    NodeName = options.NodeName,
                },
            ],
            Ports = [.. Ports.Select(p => new Discoveryv1EndpointPort { Name = p.Name, Protocol = p.Protocol, Port = p.Port })],
        };
        var existing = await ReadOrNullAsync(() => client.DiscoveryV1.ReadNamespacedEndpointSliceAsync(slice.Metadata.Name, Namespace, cancellationToken: cancellationToken));
        if (existing is null)
        {
            await client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(slice, Namespace, cancellationToken: cancellationToken);
        }
        else
        {
            slice.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
            await client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(slice, slice.Metadata.Name, Namespace, cancellationToken: cancellationToken);
        }
    }

    // CoreDNS's addon labels, so `kubectl get svc -l k8s-app=kube-dns` finds it as on any cluster.
    private static Dictionary<string, string> Labels() => new() { ["k8s-app"] = "kube-dns", ["kubernetes.io/name"] = "CoreDNS" };

    private static async Task<T?> ReadOrNullAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 5300, Level = LogLevel.Information, Message = "kube-dns {ServiceIp} now reaches this server at {Gateway}:53 on node {Node}")]
    private static partial void LogPublished(ILogger logger, IPAddress serviceIp, IPAddress gateway, string node);

    [LoggerMessage(EventId = 5301, Level = LogLevel.Warning, Message = "kube-system/kube-dns exists with ClusterIP {Actual}, not {Expected}; pods' resolv.conf names {Expected}")]
    private static partial void LogUnexpectedClusterIp(ILogger logger, string? actual, IPAddress expected);
}
