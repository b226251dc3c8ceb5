using System.Net;

namespace Switchboard.Node.Server;

/// <summary>The node's HTTPS port (kubelet's <c>--address</c>, <c>--port</c>, <c>--tls-cert-file</c>, <c>--tls-private-key-file</c>, <c>--client-ca-file</c>).</summary>
public sealed record KubeletServerOptions
{
    /// <summary>kubelet's default port.</summary>
    public const int DefaultPort = 10250;

    public IPAddress Address { get; init; } = IPAddress.Any;

    /// <summary>The port; 0 asks the kernel for a free one (the Node's daemonEndpoints say which).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The serving certificate (PEM).</summary>
    public required string CertificateFile { get; init; }

    /// <summary>The serving certificate's private key (PEM).</summary>
    public required string KeyFile { get; init; }

    /// <summary>The CA(s) whose client certificates are accepted (PEM); any other caller gets 401.</summary>
    public required string ClientCaFile { get; init; }
}
