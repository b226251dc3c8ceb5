using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Networking;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// A UDP socket of one service port and its flow table: each client address gets its own socket towards the endpoint
/// the picker chose, so replies find their way back, until the flow has been idle for the idle timeout (as a UDP
/// conntrack entry expires). A flow whose endpoint goes away moves to a live one, so a client that keeps its socket
/// (a DNS resolver) is not stuck on a dead pod.
/// </summary>
internal sealed partial class UdpFrontend : IFrontend
{
    private const int MaxDatagram = 65535;

    private readonly Socket _socket;
    private readonly string _name;
    private readonly EndpointPicker _picker;
    private readonly NetnsDialer _sockets;
    private readonly TimeProvider _time;
    private readonly TimeSpan _idleTimeout;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<SocketAddress, UdpFlow> _flows = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly ITimer _sweeper;

    private UdpFrontend(Socket socket, string name, EndpointPicker picker, NetnsDialer sockets, TimeProvider time, TimeSpan idleTimeout, ILogger logger)
    {
        _socket = socket;
        _name = name;
        _picker = picker;
        _sockets = sockets;
        _time = time;
        _idleTimeout = idleTimeout;
        _logger = logger;
        // Sweeping at half the timeout ends an idle flow between 1 and 1.5 timeouts after its last datagram.
        var sweep = idleTimeout / 2;
        _sweeper = time.CreateTimer(_ => RemoveIdleFlows(), null, sweep, sweep);
    }

    public static async Task<UdpFrontend> OpenAsync(IPEndPoint address, string name, EndpointPicker picker, NetnsDialer sockets, TimeProvider time, TimeSpan idleTimeout, ILogger logger)
    {
        var socket = await sockets.CreateAsync(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(address);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var frontend = new UdpFrontend(socket, name, picker, sockets, time, idleTimeout, logger);
        _ = frontend.ReceiveAsync();
        return frontend;
    }

    public void EndpointsChanged()
    {
        var live = _picker.Endpoints;
        foreach (var flow in _flows.Values)
        {
            if (!live.Contains(flow.Target) && _picker.Next(flow.ClientIp) is { } target)
            {
                flow.MoveTo(target);
            }
        }
    }

    public void Dispose()
    {
        _closed.Cancel();
        _sweeper.Dispose();
        _socket.Dispose();
        foreach (var flow in _flows.Values)
        {
            flow.Dispose();
        }

        _flows.Clear();
    }

    private async Task ReceiveAsync()
    {
        var closed = _closed.Token;
        // One buffer and one address for the frontend's life: a datagram is handed to its flow before the next is read.
        byte[] buffer = new byte[MaxDatagram];
        var from = new SocketAddress(AddressFamily.InterNetwork);
        while (!closed.IsCancellationRequested)
        {
            try
            {
                int received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, from, closed);
                // No endpoint for a new client drops its datagram (the frontend closes when the last endpoint goes).
                var flow = _flows.TryGetValue(from, out var known) ? known : await OpenFlowAsync(from);
                if (flow is not null)
                {
                    await flow.SendAsync(buffer.AsMemory(0, received), closed);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || closed.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // An ICMP error from an earlier send (the endpoint's port closed) surfaces on some later call: not fatal.
                LogUdpError(_logger, _name, e.SocketErrorCode);
            }
        }
    }

    private async Task<UdpFlow?> OpenFlowAsync(SocketAddress from)
    {
        var client = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(from);
        if (_picker.Next(client.Address) is not { } target)
        {
            return null;
        }

        var backend = await _sockets.CreateAsync(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        if (_closed.IsCancellationRequested)
        {
            // Closed while the socket was being made: the flow table has been emptied for good.
            backend.Dispose();
            return null;
        }

        backend.Bind(new IPEndPoint(IPAddress.Any, 0));
        var flow = new UdpFlow(client, backend, target, _socket, _time);
        _flows[flow.ClientAddress] = flow;
        flow.Start();
        return flow;
    }

    private void RemoveIdleFlows()
    {
        foreach (var (client, flow) in _flows)
        {
            if (flow.IdleFor >= _idleTimeout && _flows.TryRemove(client, out _))
            {
                flow.Dispose();
            }
        }
    }

    [LoggerMessage(EventId = 6102, Level = LogLevel.Debug, Message = "userspace proxy {ServicePort}: UDP error {Error}")]
    private static partial void LogUdpError(ILogger logger, string servicePort, SocketError error);
}
