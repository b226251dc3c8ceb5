using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Streaming;

/// <summary>
/// The API server's connection to the nodes' HTTPS ports, as kube-apiserver's kubelet client: the node's address and
/// port from its Node object, TLS with the <c>apiserver-kubelet-client</c> certificate, the node's serving certificate
/// verified against the cluster CA (and its name or address), nothing buffered.
/// </summary>
internal sealed class KubeletClient : IDisposable
{
    /// <summary>kubelet's port when the Node does not say (daemonEndpoints port 0).</summary>
    public const int DefaultPort = 10250;

    /// <summary>kube-apiserver's default <c>--kubelet-preferred-address-types</c>.</summary>
    private static readonly string[] PreferredAddressTypes = ["Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP"];

    private static readonly TimeSpan ResolutionLifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ResolutionTimeout = TimeSpan.FromSeconds(2);
    private readonly ResourceStore<V1Node> _nodes;
    private readonly TimeProvider _time;
    private readonly X509Certificate2 _certificate;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);
    private readonly HttpMessageInvoker _invoker;
    private readonly X509ChainPolicy _chainPolicy;
    private readonly ConcurrentDictionary<string, (IPAddress[] Addresses, DateTimeOffset Expires)> _resolved = new(StringComparer.OrdinalIgnoreCase);

    public KubeletClient(ResourceStore<V1Node> nodes, X509Certificate2 certificate, X509Certificate2 ca, TimeProvider time)
    {
        _nodes = nodes;
        _time = time;
        _certificate = certificate;
        _chainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        _chainPolicy.CustomTrustStore.Add(ca);
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = ConnectTimeout,
            SslOptions = TlsOptions(null),
        });
    }

    /// <summary>
    /// Opens a connection of its own to <paramref name="target"/> and sends an upgrade request with
    /// <paramref name="headers"/>, each line as given; the answer's head (and body, unless 101) is read.
    /// </summary>
    public async Task<UpgradeConnection> UpgradeAsync(string method, Uri target, IEnumerable<(string Name, string Value)> headers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream? tls = null;
        try
        {
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connecting.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(target.IdnHost, target.Port, connecting.Token);
            }

            tls = new SslStream(new ReadAheadStream(new NetworkStream(socket, ownsSocket: true)));
            await tls.AuthenticateAsClientAsync(TlsOptions(target.IdnHost), cancellationToken);
            return await UpgradeConnection.OpenAsync(tls, method, target, headers, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            if (tls is not null)
            {
                await tls.DisposeAsync();
            }

            socket.Dispose();
            throw ApiException.Internal($"error dialing backend: {e.Message}", e);
        }
    }

    /// <summary>Sends a plain (not upgrade) <paramref name="request"/> to the node; returns once the response head is in, the body still streaming.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        try
        {
            return await _invoker.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            // kube-apiserver's answer when the kubelet cannot be dialed or fails the handshake.
            throw ApiException.Internal($"error dialing backend: {e.Message}", e);
        }
    }

    /// <summary>https://ADDRESS:PORT of node <paramref name="nodeName"/>, from its status.</summary>
    public async Task<Uri> LocateAsync(string nodeName, CancellationToken cancellationToken)
    {
        var node = await _nodes.TryGetAsync(null, nodeName, cancellationToken) ?? throw _nodes.NotFound(nodeName);
        int port = node.Status?.DaemonEndpoints?.KubeletEndpoint?.Port is > 0 and var given ? given : DefaultPort;
        var addresses = node.Status?.Addresses ?? [];
        foreach (string type in PreferredAddressTypes)
        {
            foreach (var address in addresses.Where(a => a.Type == type && !string.IsNullOrEmpty(a.Address)))
            {
                // kube-apiserver dials a Hostname as it is, and clusters whose node names do not resolve reorder
                // --kubelet-preferred-address-types. This server has no such flag, and a node names itself after its
                // host, which often resolves nowhere or (Debian's 127.0.1.1 line) to an address the node does not listen
                // on: a Hostname is taken only when it resolves to one of the node's own IP addresses.
                if (type == "Hostname" && !await ResolvesToNodeAsync(address.Address, addresses, cancellationToken))
                {
                    continue;
                }

                var builder = new UriBuilder(Uri.UriSchemeHttps, address.Address, port);
                return builder.Uri;
            }
        }

        throw ApiException.Internal($"no preferred addresses found; known addresses: [{string.Join(' ', addresses.Select(a => $"{{{a.Type} {a.Address}}}"))}]");
    }

    public void Dispose()
    {
        _invoker.Dispose();
        _certificate.Dispose();
    }

    /// <summary>TLS as the API server's client: its certificate, the node's checked against the cluster CA, HTTP/1.1 (what the upgrades need).</summary>
    private SslClientAuthenticationOptions TlsOptions(string? targetHost) => new()
    {
        TargetHost = targetHost,
        ClientCertificates = [_certificate],
        CertificateChainPolicy = _chainPolicy,
        ApplicationProtocols = [SslApplicationProtocol.Http11],
    };

    private async Task<bool> ResolvesToNodeAsync(string hostname, IEnumerable<V1NodeAddress> addresses, CancellationToken cancellationToken)
    {
        var own = addresses.Where(a => a.Type is "InternalIP" or "ExternalIP").Select(a => IPAddress.TryParse(a.Address, out var ip) ? ip : null).OfType<IPAddress>().ToList();
        var now = _time.GetUtcNow();
        if (!_resolved.TryGetValue(hostname, out var entry) || entry.Expires <= now)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ResolutionTimeout);
            IPAddress[] resolved;
            try
            {
                resolved = await Dns.GetHostAddressesAsync(hostname, timeout.Token);
            }
            catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                resolved = [];
            }

            entry = (resolved, now + ResolutionLifetime);
            _resolved[hostname] = entry;
        }

        return entry.Addresses.Any(own.Contains);
    }
}
