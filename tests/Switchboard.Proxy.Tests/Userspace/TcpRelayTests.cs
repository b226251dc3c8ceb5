using System.Net;
using System.Net.Sockets;
using Switchboard.Proxy.Userspace;

namespace Switchboard.Proxy.Tests.Userspace;

/// <summary>
/// The TCP copy loop on loopback: messages both ways, then a half-close passed through. (Its allocations are measured
/// by TcpRelayBenchmarks: in the test host other threads allocate too much to count them here.)
/// </summary>
public sealed class TcpRelayTests : IAsyncLifetime
{
    private const int MessageBytes = 64;

    private readonly Socket _echoListener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _proxyListener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private Task _echo = Task.CompletedTask;
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
        await backend.ConnectAsync(_echoListener.LocalEndPoint!);
        _relay = TcpRelay.RunAsync(accepted, backend);
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

    public async Task DisposeAsync()
    {
        _client.Dispose();
        _proxyListener.Dispose();
        _echoListener.Dispose();
        await _relay.WaitAsync(TimeSpan.FromSeconds(10));
        await _echo.WaitAsync(TimeSpan.FromSeconds(10));
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

    private static async Task EchoAsync(Socket listener)
    {
        using var connection = await listener.AcceptAsync();
        var buffer = new byte[4096];
        int read;
        while ((read = await connection.ReceiveAsync(buffer.AsMemory(), SocketFlags.None)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
        }

        connection.Shutdown(SocketShutdown.Send);
    }
}
