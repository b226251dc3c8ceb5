namespace Switchboard.Proxy.Model;

/// <summary>One endpoint the proxy sends a service port's traffic to, with its KUBE-SEP chain.</summary>
internal sealed record ProxyEndpoint
{
    public ProxyEndpoint(string servicePortName, string protocol, string ip, int port)
    {
        Ip = ip;
        Port = port;
        Address = $"{ip}:{port}";
        Chain = ChainNames.Endpoint(servicePortName, protocol, Address);
    }

    public string Ip { get; }

    public int Port { get; }

    /// <summary><c>ip:port</c>, as kube-proxy prints an endpoint.</summary>
    public string Address { get; }

    public string Chain { get; }

    /// <summary>Whether the endpoint runs on this proxy's node: the only ones a Local traffic policy uses.</summary>
    public bool IsLocal { get; init; }
}
