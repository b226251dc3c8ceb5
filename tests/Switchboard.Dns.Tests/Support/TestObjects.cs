using k8s.Models;

namespace Switchboard.Dns.Tests.Support;

/// <summary>Kubernetes objects as an informer would hand them to the index.</summary>
internal static class TestObjects
{
    public static V1Namespace Namespace(string name) => new() { Metadata = new V1ObjectMeta { Name = name } };

    public static V1Service ClusterIp(string ns, string name, string[] ips, params (string? Name, string Protocol, int Port)[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = ips.FirstOrDefault(),
            ClusterIPs = ips,
            Ports = [.. ports.Select(p => new V1ServicePort { Name = p.Name, Protocol = p.Protocol, Port = p.Port })],
        },
    };

    public static V1Service Headless(string ns, string name, bool publishNotReady = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec { Type = "ClusterIP", ClusterIP = "None", ClusterIPs = ["None"], PublishNotReadyAddresses = publishNotReady },
    };

    public static V1Service ExternalName(string ns, string name, string target) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec { Type = "ExternalName", ExternalName = target },
    };

    public static V1Endpoint Endpoint(string ip, string? hostname = null, bool? ready = true) => new()
    {
        Addresses = [ip],
        Hostname = hostname,
        Conditions = new V1EndpointConditions { Ready = ready },
    };

    public static V1EndpointSlice Slice(string ns, string service, string sliceName, string addressType, V1Endpoint[] endpoints, params (string? Name, string Protocol, int Port)[] ports) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = sliceName,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service },
        },
        AddressType = addressType,
        Endpoints = endpoints,
        Ports = [.. ports.Select(p => new Discoveryv1EndpointPort { Name = p.Name, Protocol = p.Protocol, Port = p.Port })],
    };

    public static V1Pod Pod(string ns, string name, string ip) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Status = new V1PodStatus { PodIP = ip, PodIPs = [new V1PodIP { Ip = ip }] },
    };
}
