using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Switchboard.Proxy.Userspace;

namespace Switchboard.Benchmarks.Proxy;

/// <summary>
/// The userspace proxy's TCP copy loop: 64-byte request/response round trips on loopback through
/// <see cref="TcpRelay"/>, against the same round trips straight to the echo server. Allocated per round trip should
/// be the same for both (0): the relay receives into its loop's buffer and sends from it, on the loop's own thread.
/// </summary>
[MemoryDiagnoser]
public class TcpRelayBenchmarks
{
    private const int MessageBytes = 64;
    private const int RoundTrips = 1000;

    private readonly byte[] _message = new byte[MessageBytes];
    private readonly byte[] _answer = new byte[MessageBytes];
    private readonly List<Socket> _sockets = [];
    private Socket _direct = null!;
    private Socket _relayed = null!;

    [GlobalSetup]
    public void Setup()
    {
        var echo = Listen();
        var proxy = Listen();
        _direct = Connect(echo);
        var directServer = echo.Accept();
        _relayed = Connect(proxy);
        var accepted = proxy.Accept();
        var backend = Connect(echo);
        var relayedServer = echo.Accept();
        _sockets.AddRange([directServer, accepted, backend, relayedServer]);
        _ = Task.Run(() => EchoAsync(directServer));
        _ = Task.Run(() => EchoAsync(relayedServer));
        _ = Task.Run(() => TcpRelay.RunAsync(accepted, backend));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips)]
    public Task Direct() => RoundTripsAsync(_direct);

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public Task Relayed() => RoundTripsAsync(_relayed);

    private async Task RoundTripsAsync(Socket client)
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            await client.SendAsync(_message.AsMemory(), SocketFlags.None);
            int received = 0;
            while (received < MessageBytes)
            {
                received += await client.ReceiveAsync(_answer.AsMemory(received), SocketFlags.None);
            }
        }
    }

    private Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.Add(listener);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        return listener;
    }

    private Socket Connect(Socket listener)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _sockets.Add(socket);
        socket.Connect(listener.LocalEndPoint!);
        return socket;
    }

    private static async Task EchoAsync(Socket connection)
    {
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await connection.ReceiveAsync(buffer.AsMemory(), SocketFlags.None)) > 0)
            {
                await connection.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Cleanup closed it.
        }
    }
}
