using System.Net;
using System.Net.Sockets;
using Switchboard.Proxy.Userspace;

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

    private readonly Socket _echoListener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _proxyListener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private Task _echo = Task.CompletedTask;
    private readonly CancellationTokenSource _abort = new();
    private Task _relay = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        foreach (var listener in (Socket[])[_echoListener, _proxyListener])
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
        }

        _echo = EchoAsync(_echoListener);
        await _client.ConnectAsync(_proxyListener.LocalEndPoint!);
        var accepted = await _proxyListener.AcceptAsync();
        var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await TcpRelay.ConnectAsync(backend, _echoListener.LocalEndPoint!, CancellationToken.None);
        _relay = TcpRelay.RunAsync(accepted, backend, _abort.Token);
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
        await _relay.WaitAsync(TimeSpan.FromSeconds(10));
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

    private static async Task EchoAsync(Socket listener)
    {
        using var connection = await listener.AcceptAsync();
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
    }
}
