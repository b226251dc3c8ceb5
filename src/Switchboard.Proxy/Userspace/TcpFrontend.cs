using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Networking;
using Switchboard.Proxy.Trace;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// A listening TCP socket of one service port. Each accepted connection is joined to a new connection to the endpoint
/// the picker chooses, from inside the node namespace; a connect that fails or times out moves on to another endpoint,
/// as kube-proxy's userspace proxy retried, before the client is dropped.
/// </summary>
internal sealed partial class TcpFrontend : IFrontend
{
    private const int Backlog = 1024;

    // kube-proxy's userspace dial timeouts: one attempt each, the next endpoint after each failure.
    private static readonly TimeSpan[] ConnectTimeouts = [TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    private readonly Socket _listener;
    private readonly EndpointPicker _picker;
    private readonly NetnsDialer _sockets;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _closed = new();
    private readonly string _name;
    private readonly ConnectionTrace? _trace;

    private TcpFrontend(Socket listener, string name, EndpointPicker picker, NetnsDialer sockets, ILogger logger, ConnectionTrace? trace)
    {
        _trace = trace;
        _listener = listener;
        _name = name;
        _picker = picker;
        _sockets = sockets;
        _logger = logger;
    }

    /// <summary>Listens on <paramref name="address"/> in the node namespace and starts accepting.</summary>
    public static async Task<TcpFrontend> OpenAsync(IPEndPoint address, string name, EndpointPicker picker, NetnsDialer sockets, ILogger logger, ConnectionTrace? trace = null)
    {
        var listener = await sockets.CreateAsync(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Connections of an earlier listener on this address may linger in TIME_WAIT.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(address);
            listener.Listen(Backlog);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var frontend = new TcpFrontend(listener, name, picker, sockets, logger, trace);
        _ = frontend.AcceptAsync();
        return frontend;
    }

    // Established connections stay with their endpoint, as conntrack keeps them in the kernel modes.
    public void EndpointsChanged()
    {
    }

    /// <summary>Stops listening (new connections are refused by the kernel) and closes the connections this frontend relays.</summary>
    public void Dispose()
    {
        // The token source stays undisposed: relays still register on its (cancelled) token as they start.
        _closed.Cancel();
        _listener.Dispose();
    }

    private async Task AcceptAsync()
    {
        var closed = _closed.Token;
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(closed);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || closed.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // A client that reset before accept, or fds running out: this connection is lost, the listener is not.
                LogAcceptFailed(_logger, _name, e.SocketErrorCode);
                continue;
            }

            _ = ServeAsync(client, closed);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken closed)
    {
        (Socket Socket, IPEndPoint Endpoint)? backend;
        try
        {
            client.NoDelay = true;
            backend = await ConnectAsync(((IPEndPoint)client.RemoteEndPoint!).Address, closed);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException || closed.IsCancellationRequested)
        {
            // The client went away before its endpoint answered, or the proxy is stopping.
            backend = null;
        }

        var (from, to) = ((IPEndPoint)client.RemoteEndPoint!, (IPEndPoint)client.LocalEndPoint!);
        if (backend is null)
        {
            // Nothing answered: reset rather than close, so the client sees a failure and not an empty reply.
            _trace?.Record("tcp", ConnectionTraceEvent.Closed, from, to, _name, null, ConnectionTraceEvent.TimedOut, source: "userspace");
            Reset(client);
            return;
        }

        var endpoint = backend.Value.Endpoint;
        long started = Stopwatch.GetTimestamp();
        _trace?.Record("tcp", ConnectionTraceEvent.Opened, from, to, _name, endpoint, ConnectionTraceEvent.Forwarded, source: "userspace");
        RelayedBytes relayed = await TcpRelay.RunAsync(client, backend.Value.Socket, closed);
        _trace?.Record(
            "tcp", ConnectionTraceEvent.Closed, from, to, _name, endpoint, ConnectionTraceEvent.Forwarded, Stopwatch.GetElapsedTime(started),
            new FlowCounters((ulong)relayed.FromClient, (ulong)relayed.FromBackend), source: "userspace");
    }

    private static void Reset(Socket client)
    {
        try
        {
            client.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already reset by the client: closing is all that is left.
        }

        client.Dispose();
    }

    /// <summary>A connection to the endpoint the picker chose (another after each failure), and which one it is.</summary>
    private async Task<(Socket Socket, IPEndPoint Endpoint)?> ConnectAsync(IPAddress clientIp, CancellationToken closed)
    {
        IPEndPoint? failed = null;
        foreach (var timeout in ConnectTimeouts)
        {
            var endpoint = _picker.Next(clientIp, failed);
            if (endpoint is null)
            {
                return null;
            }

            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(closed);
            attempt.CancelAfter(timeout);
            try
            {
                return (await DialAsync(endpoint, attempt.Token), endpoint);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                if (closed.IsCancellationRequested)
                {
                    return null;
                }

                LogConnectFailed(_logger, _name, endpoint, e.Message);
                failed = endpoint;
            }
        }

        return null;
    }

    /// <summary>A connection to <paramref name="endpoint"/> from the node namespace, made on a relay loop (see <see cref="TcpRelay.ConnectAsync"/>).</summary>
    private async Task<Socket> DialAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var backend = await _sockets.CreateAsync(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            backend.NoDelay = true;
            await TcpRelay.ConnectAsync(backend, endpoint, cancellationToken);
            return backend;
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    [LoggerMessage(EventId = 6100, Level = LogLevel.Warning, Message = "userspace proxy {ServicePort}: accept failed: {Error}")]
    private static partial void LogAcceptFailed(ILogger logger, string servicePort, SocketError error);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "userspace proxy {ServicePort}: connect to {Endpoint} failed, trying another endpoint: {Error}")]
    private static partial void LogConnectFailed(ILogger logger, string servicePort, IPEndPoint endpoint, string error);
}
