using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Networking;
using Switchboard.Node.Network;

namespace Switchboard.Node.Server.PortForward;

/// <summary>
/// kubelet's <c>/portForward/{namespace}/{pod}[/{uid}]</c> on the node's HTTPS port, in the three ways a client can
/// ask for it: kubectl 1.32's SPDY/3 tunnelled in a WebSocket (subprotocol <c>SPDY/3.1+portforward.k8s.io</c>),
/// kubectl's fallback, a raw <c>Upgrade: SPDY/3.1</c> with <c>X-Stream-Protocol-Version: portforward.k8s.io</c>, and
/// the older WebSocket channels with <c>?port=</c> (KubernetesClient). Connections are made to 127.0.0.1 inside the
/// pod's network namespace, so a server that listens only on the pod's loopback is reached too.
/// </summary>
internal sealed partial class PortForwardHandler(NodeContainers containers, NetworkNames names, TimeProvider time, ILogger<PortForwardHandler> logger)
{
    public const string Path = "/portForward";

    /// <summary>The SPDY subprotocol kubectl asks for in <c>X-Stream-Protocol-Version</c>.</summary>
    public const string Protocol = "portforward.k8s.io";

    /// <summary>The WebSocket subprotocol kubectl 1.32 offers: SPDY/3 frames carried in binary messages.</summary>
    public const string TunnelSubprotocol = "SPDY/3.1+" + Protocol;

    /// <summary>The GUID RFC 6455 appends to a handshake's key.</summary>
    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public async Task ServeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await containers.ResolvePodAsync(context, NodeContainers.Segments(context)) is not var (pod, state))
        {
            return;
        }

        string ns = pod.Metadata.NamespaceProperty;
        string name = pod.Metadata.Name;
        if (state.SandboxState is null || state.Terminal)
        {
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest", $"unable to port-forward: pod {ns}/{name} is not running");
            return;
        }

        string description = $"{name}_{ns}, uid {state.Uid}";
        if (context.WebSockets.IsWebSocketRequest)
        {
            var offered = context.WebSockets.WebSocketRequestedProtocols;
            if (offered.Contains(TunnelSubprotocol, StringComparer.Ordinal))
            {
                using var dialer = new NetnsDialer(names.PodNamespace(state.Uid));
                using var webSocket = await AcceptTunnelAsync(context);
                await using var stream = WebSocketStream.Create(webSocket, WebSocketMessageType.Binary, ownsWebSocket: false);
                using (var forwarder = new SpdyPortForwarder(stream, Dial(dialer), description, time, logger))
                {
                    await forwarder.RunAsync(context.RequestAborted);
                }

                await CloseAsync(webSocket);
                return;
            }

            await ServeChannelsAsync(context, offered, description, state.Uid);
            return;
        }

        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is not { IsUpgradableRequest: true } || !string.Equals(context.Request.Headers.Upgrade, "SPDY/3.1", StringComparison.OrdinalIgnoreCase))
        {
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest",
                $"port-forward needs an upgrade: a WebSocket (subprotocol {TunnelSubprotocol}, or channels with ?port=) or Upgrade: SPDY/3.1");
            return;
        }

        var versions = context.Request.Headers["X-Stream-Protocol-Version"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries));
        if (!versions.Contains(Protocol, StringComparer.Ordinal))
        {
            context.Response.Headers["X-Accepted-Stream-Protocol-Versions"] = Protocol;
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                $"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(' ', versions)}], server accepts [{Protocol}]");
            return;
        }

        using (var dialer = new NetnsDialer(names.PodNamespace(state.Uid)))
        {
            context.Response.Headers.Connection = "Upgrade";
            context.Response.Headers.Upgrade = "SPDY/3.1";
            context.Response.Headers["X-Stream-Protocol-Version"] = Protocol;
            await using var stream = await upgrade.UpgradeAsync();
            using var forwarder = new SpdyPortForwarder(stream, Dial(dialer), description, time, logger);
            await forwarder.RunAsync(context.RequestAborted);
        }
    }

    /// <summary>The older channel protocol: ports from <c>?port=80,443</c> (repeatable), kubelet's query.</summary>
    private async Task ServeChannelsAsync(HttpContext context, IList<string> offered, string description, string uid)
    {
        var ports = new List<int>();
        foreach (string item in context.Request.Query["port"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            {
                await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest", $"unable to parse \"{item}\" as a port: it must be 1-65535");
                return;
            }

            ports.Add(port);
        }

        if (ports.Count == 0)
        {
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest",
                $"query parameter \"port\" is required (or the WebSocket subprotocol {TunnelSubprotocol})");
            return;
        }

        string? subprotocol = offered.FirstOrDefault(p => WebSocketPortForwarder.Subprotocols.Contains(p, StringComparer.Ordinal));
        if (subprotocol is null && offered.Count > 0)
        {
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest",
                $"none of the WebSocket subprotocols [{string.Join(' ', offered)}] is served: choose {TunnelSubprotocol} or one of [{string.Join(' ', WebSocketPortForwarder.Subprotocols)}]");
            return;
        }

        using var dialer = new NetnsDialer(names.PodNamespace(uid));
        using var webSocket = await context.WebSockets.AcceptWebSocketAsync(subprotocol);
        bool base64 = subprotocol?.Contains("base64", StringComparison.Ordinal) == true;
        await new WebSocketPortForwarder(Dial(dialer), description, logger).RunAsync(webSocket, ports, base64, context.RequestAborted);
    }

    /// <summary>
    /// Answers the WebSocket handshake (RFC 6455 §4.2.2) with <see cref="TunnelSubprotocol"/> here: ASP.NET's accept
    /// checks a subprotocol is an RFC token, which kubectl's, with its '/', is not.
    /// </summary>
    private static async Task<WebSocket> AcceptTunnelAsync(HttpContext context)
    {
        string key = context.Request.Headers.SecWebSocketKey.ToString();
        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = "websocket";
        context.Response.Headers.SecWebSocketAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + WebSocketGuid)));
        context.Response.Headers.SecWebSocketProtocol = TunnelSubprotocol;
        var stream = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync();
        return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true });
    }

    private static Func<int, CancellationToken, Task<Socket>> Dial(NetnsDialer dialer) =>
        (port, cancellationToken) => dialer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);

    private static async Task CloseAsync(WebSocket webSocket)
    {
        try
        {
            if (webSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            // The client is gone already; there is nobody to tell.
        }
    }
}
