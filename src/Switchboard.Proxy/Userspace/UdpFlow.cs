using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// One UDP client of a service port: its own socket in the node namespace sends the client's datagrams to the chosen
/// endpoint and relays the endpoint's replies back through the service port's socket, so they come from the cluster IP.
/// Replies from any other address (an endpoint the flow moved away from) are dropped.
/// </summary>
internal sealed class UdpFlow : IDisposable
{
    private readonly Socket _backend;
    private readonly Socket _frontend;
    private readonly TimeProvider _time;
    private Destination _target;
    private long _lastActivity;

    public UdpFlow(IPEndPoint client, Socket backend, IPEndPoint target, Socket frontend, TimeProvider time)
    {
        ClientIp = client.Address;
        ClientAddress = client.Serialize();
        _backend = backend;
        _frontend = frontend;
        _time = time;
        _target = new Destination(target);
        _lastActivity = time.GetTimestamp();
    }

    public IPAddress ClientIp { get; }

    public SocketAddress ClientAddress { get; }

    /// <summary>The endpoint this flow's datagrams go to now.</summary>
    public IPEndPoint Target => Volatile.Read(ref _target).EndPoint;

    public TimeSpan IdleFor => _time.GetElapsedTime(Volatile.Read(ref _lastActivity));

    public void Start() => _ = RelayRepliesAsync();

    /// <summary>Sends the next datagrams to <paramref name="target"/> (the old endpoint is gone).</summary>
    public void MoveTo(IPEndPoint target) => Volatile.Write(ref _target, new Destination(target));

    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
        return _backend.SendToAsync(datagram, SocketFlags.None, Volatile.Read(ref _target).Address, cancellationToken);
    }

    public void Dispose() => _backend.Dispose();

    private async Task RelayRepliesAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ushort.MaxValue);
        var from = new SocketAddress(AddressFamily.InterNetwork);
        try
        {
            while (true)
            {
                int received;
                try
                {
                    received = await _backend.ReceiveFromAsync(buffer, SocketFlags.None, from);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                    // ICMP port unreachable from the endpoint for an earlier datagram: the flow itself goes on.
                    continue;
                }

                if (!from.Equals(Volatile.Read(ref _target).Address))
                {
                    continue;
                }

                Volatile.Write(ref _lastActivity, _time.GetTimestamp());
                await _frontend.SendToAsync(buffer.AsMemory(0, received), SocketFlags.None, ClientAddress);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The flow expired or the service port closed.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private sealed class Destination(IPEndPoint endPoint)
    {
        public IPEndPoint EndPoint { get; } = endPoint;

        public SocketAddress Address { get; } = endPoint.Serialize();
    }
}
