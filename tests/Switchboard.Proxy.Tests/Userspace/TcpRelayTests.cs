using System.Net;
using System.Net.Sockets;
using Switchboard.Proxy.Userspace;
using Switchboard.Testing;

namespace Switchboard.Proxy.Tests.Userspace;

/// <summary>
/// The TCP relay on loopback, its backend connected through a relay loop: messages both ways, a half-close passed
/// through, a transfer larger than the socket buffers (so the relay must hold back and resume), an abort, and connects
/// that fail. (Its allocations are measured by TcpRelayBenchmarks: in the test host other threads allocate too much
/// to count them here.)
/// </summary>
public sealed class TcpRelayTests : IAsyncLifetime
{
    private const int MessageBytes = 64;
    private const int TcpLevel = 6;
    private const int TcpInfo = 11;
    private const int TcpFinWait2 = 5;

    private readonly Socket _echoListener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _proxyListener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private Task _echo = Task.CompletedTask;
    private readonly CancellationTokenSource _abort = new();
    private Task<RelayedBytes> _relay = Task.FromResult(default(RelayedBytes));

    public async Task InitializeAsync()
    {
        Listen(_echoListener);
        Listen(_proxyListener);
        var echoed = _echoListener.AcceptAsync();
        var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _relay = await RelayAsync(_client, _proxyListener, backend, _echoListener.LocalEndPoint!, _abort.Token);
        // Accepted before any test can end and close the listener under a pending accept.
        _echo = EchoAsync(await echoed);
    }

    [Fact]
    public async Task Messages_go_both_ways_and_a_half_close_reaches_the_other_side()
    {
        var message = new byte[MessageBytes];
        var answer = new byte[MessageBytes];
        await RoundTripsAsync(_client, 1_000, message, answer);

        // The client stops sending: the echo server sees the end, closes its side, and the client sees that end.
        _client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await _client.ReceiveAsync(answer.AsMemory(), SocketFlags.None));
        await _relay.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_transfer_larger_than_the_socket_buffers_arrives_intact_both_ways()
    {
        const int Total = 32 << 20;
        // The client writes everything before it reads anything back, so the relay's sends block on the way out and
        // on the way back, and it has to hold data and resume on the other side's writable edges.
        var send = Task.Run(async () =>
        {
            var chunk = new byte[100_003];
            for (int sent = 0; sent < Total; sent += chunk.Length)
            {
                int length = Math.Min(chunk.Length, Total - sent);
                for (int i = 0; i < length; i++)
                {
                    chunk[i] = Pattern(sent + i);
                }

                await _client.SendAsync(chunk.AsMemory(0, length), SocketFlags.None);
            }

            _client.Shutdown(SocketShutdown.Send);
        });

        var buffer = new byte[65_536];
        long received = 0;
        int read;
        while ((read = await _client.ReceiveAsync(buffer.AsMemory(), SocketFlags.None)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] != Pattern(received + i))
                {
                    Assert.Fail($"byte {received + i} is {buffer[i]}, sent {Pattern(received + i)}");
                }
            }

            received += read;
        }

        await send;
        Assert.Equal(Total, received);
        Assert.Equal(new RelayedBytes(Total, Total), await _relay.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_end_that_comes_while_the_relay_holds_bytes_back_follows_them_to_the_backend()
    {
        const int Total = (512 << 10) + 4321;
        // Large buffers on the client's side, small ones on the backend's: all of the client's bytes and its end fit
        // on the way in, but the relay can pass on only some of them and holds the rest back until the backend reads.
        // The end's only readable edge comes meanwhile; the backend's writable edges then resume that direction, and
        // the end must follow the last held-back byte without another edge from the client.
        using var sinkListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 32 << 10 };
        using var proxyListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4 << 20 };
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = 4 << 20 };
        Listen(sinkListener);
        Listen(proxyListener);
        var sink = sinkListener.AcceptAsync();
        var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = 32 << 10 };
        var relay = await RelayAsync(client, proxyListener, backend, sinkListener.LocalEndPoint!, CancellationToken.None);

        var bytes = new byte[Total];
        for (int i = 0; i < Total; i++)
        {
            bytes[i] = Pattern(i);
        }

        await client.SendAsync(bytes.AsMemory(), SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);
        // FIN_WAIT2: the relay's socket has the end, while the backend has read nothing yet.
        await Eventually.WaitAsync(() => TcpState(client) == TcpFinWait2, "the client's end acknowledged by the relay's socket");

        using var connection = await sink;
        using var stuck = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[65_536];
        long received = 0;
        int read;
        while ((read = await connection.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, stuck.Token)) > 0)
        {
            Assert.True(buffer.AsSpan(0, read).SequenceEqual(bytes.AsSpan((int)received, read)), $"bytes from {received} differ");
            received += read;
        }

        Assert.Equal(Total, received);
        connection.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await client.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, stuck.Token));
        Assert.Equal(new RelayedBytes(Total, 0), await relay.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_abort_closes_both_sides_of_a_relayed_connection()
    {
        var message = new byte[MessageBytes];
        await RoundTripsAsync(_client, 1, message, new byte[MessageBytes]);

        await _abort.CancelAsync();
        await _relay.WaitAsync(TimeSpan.FromSeconds(10));
        // The echo server saw its connection end, so it stopped; the client sees its own end.
        await _echo.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await _client.ReceiveAsync(message.AsMemory(), SocketFlags.None));
    }

    [Fact]
    public async Task A_connect_to_a_closed_port_is_refused_and_a_cancelled_one_is_cancelled()
    {
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closedPort = closed.LocalEndPoint!;

        using var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var error = await Assert.ThrowsAsync<SocketException>(() => TcpRelay.ConnectAsync(refused, closedPort, CancellationToken.None));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);

        using var cancelled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TcpRelay.ConnectAsync(cancelled, _echoListener.LocalEndPoint!, new CancellationToken(true)));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        _proxyListener.Dispose();
        _echoListener.Dispose();
        await _relay.WaitAsync(TimeSpan.FromSeconds(10));
        await _echo.WaitAsync(TimeSpan.FromSeconds(10));
        _abort.Dispose();
    }

    private static byte Pattern(long offset) => (byte)(offset % 251);

    private static void Listen(Socket listener)
    {
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
    }

    /// <summary>Connects <paramref name="client"/> through a new relay to <paramref name="backendAddress"/>, as the frontend joins an accepted connection to an endpoint.</summary>
    private static async Task<Task<RelayedBytes>> RelayAsync(Socket client, Socket proxyListener, Socket backend, EndPoint backendAddress, CancellationToken abort)
    {
        await client.ConnectAsync(proxyListener.LocalEndPoint!);
        var accepted = await proxyListener.AcceptAsync();
        await TcpRelay.ConnectAsync(backend, backendAddress, CancellationToken.None);
        return TcpRelay.RunAsync(accepted, backend, abort);
    }

    /// <summary>The kernel's TCP state of <paramref name="socket"/>: the first byte of its TCP_INFO.</summary>
    private static int TcpState(Socket socket)
    {
        Span<byte> info = stackalloc byte[256];
        socket.GetRawSocketOption(TcpLevel, TcpInfo, info);
        return info[0];
    }

    private static async Task RoundTripsAsync(Socket client, int count, byte[] message, byte[] answer)
    {
        for (int i = 0; i < count; i++)
        {
            message[0] = (byte)i;
            await client.SendAsync(message.AsMemory(), SocketFlags.None);
            int received = 0;
            while (received < MessageBytes)
            {
                int read = await client.ReceiveAsync(answer.AsMemory(received), SocketFlags.None);
                Assert.True(read > 0, "the relay closed the connection");
                received += read;
            }

            Assert.Equal(message[0], answer[0]);
        }
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

            connection.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The relay was aborted while an answer was under way.
        }
        finally
        {
            connection.Dispose();
        }
    }
}
