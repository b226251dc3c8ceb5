using k8s.Models;

namespace Switchboard.Proxy.Tests.Support;

/// <summary>Services and EndpointSlices as the API server and the EndpointSlice controller would write them.</summary>
internal static class ProxyObjects
{
    public static V1Service Service(string ns, string name, string clusterIp, params V1ServicePort[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec { Type = "ClusterIP", ClusterIP = clusterIp, Ports = ports, SessionAffinity = "None" },
    };

    /// <summary>A NodePort service: its ports' nodePorts are programmed only with this type, as the API server allocates them.</summary>
    public static V1Service NodePortService(string ns, string name, string clusterIp, params V1ServicePort[] ports)
    {
        var service = Service(ns, name, clusterIp, ports);
        service.Spec.Type = "NodePort";
        return service;
    }

    /// <summary>
    /// A LoadBalancer on <paramref name="clusterIp"/>, port 80 with a NodePort, an external IP, an ingress IP,
    /// externalTrafficPolicy Local and the given loadBalancerSourceRanges.
    /// </summary>
    public static V1Service LocalLoadBalancer(string ns, string name, string clusterIp, int nodePort, string externalIp, string ingressIp, params string[] sourceRanges)
    {
        var service = Service(ns, name, clusterIp, Port("p80", 80, nodePort: nodePort));
        service.Spec.Type = "LoadBalancer";
        service.Spec.ExternalIPs = [externalIp];
        service.Spec.ExternalTrafficPolicy = "Local";
        service.Spec.LoadBalancerSourceRanges = sourceRanges.Length == 0 ? null : sourceRanges;
        service.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = ingressIp }] } };
        return service;
    }

    /// <summary>A ClusterIP service on port 80 with internalTrafficPolicy Local.</summary>
    public static V1Service InternalLocal(string ns, string name, string clusterIp)
    {
        var service = Service(ns, name, clusterIp, Port("p80", 80));
        service.Spec.InternalTrafficPolicy = "Local";
        return service;
    }

    public static V1ServicePort Port(string? name, int port, string protocol = "TCP", int? nodePort = null) =>
        new() { Name = name, Port = port, Protocol = protocol, NodePort = nodePort };

    public static V1EndpointSlice Slice(string ns, string service, string? portName, int port, params V1Endpoint[] endpoints) =>
        Slice(ns, service, portName, port, "TCP", endpoints);

    public static V1EndpointSlice Slice(string ns, string service, string? portName, int port, string protocol, params V1Endpoint[] endpoints) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = $"{service}-abcde",
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service },
        },
        AddressType = "IPv4",
        Ports = [new Discoveryv1EndpointPort { Name = portName, Port = port, Protocol = protocol }],
        Endpoints = endpoints,
    };

    /// <summary>The node the golden and model tests' proxy runs on: endpoints made by <see cref="Local"/> are on it.</summary>
    public const string NodeName = "node-a";

    public static V1Endpoint Ready(string ip) => Endpoint(ip, ready: true, serving: true, terminating: false);

    /// <summary>A ready endpoint on <see cref="NodeName"/>.</summary>
    public static V1Endpoint Local(string ip)
    {
        var endpoint = Ready(ip);
        endpoint.NodeName = NodeName;
        return endpoint;
    }

    public static V1Endpoint Endpoint(string ip, bool ready, bool serving, bool terminating) => new()
    {
        Addresses = [ip],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = serving, Terminating = terminating },
    };
}
