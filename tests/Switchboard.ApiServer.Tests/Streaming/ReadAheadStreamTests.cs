using System.Net;
using System.Net.Sockets;
using Switchboard.ApiServer.Streaming;

namespace Switchboard.ApiServer.Tests.Streaming;

/// <summary>The read-ahead under the API server's TLS to a node: bytes in order whatever the read sizes, writes at once beside a pending read.</summary>
public sealed class ReadAheadStreamTests
{
    [Fact]
    public async Task Reads_of_any_size_see_the_peer_bytes_in_order_and_a_write_goes_out_while_a_read_waits()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var peer = await listener.AcceptTcpClientAsync();
        await using var stream = new ReadAheadStream(client.GetStream());
        var peerStream = peer.GetStream();

        // Three times the read-ahead, sent in uneven pieces, read back in pieces of other sizes, one larger than the buffer.
        byte[] sent = new byte[3 * ReadAheadStream.BufferSize];
        new Random(12).NextBytes(sent);
        var sending = Task.Run(async () =>
        {
            for (int at = 0, piece = 1000; at < sent.Length; at += piece, piece = (piece * 7 % 50_000) + 1)
            {
                await peerStream.WriteAsync(sent.AsMemory(at, Math.Min(piece, sent.Length - at)));
            }
        });
        byte[] received = new byte[sent.Length];
        int[] sizes = [1, 5, 16_384, ReadAheadStream.BufferSize + 10, 700];
        for (int filled = 0, i = 0; filled < received.Length; i++)
        {
            int read = await stream.ReadAsync(received.AsMemory(filled, Math.Min(sizes[i % sizes.Length], received.Length - filled)));
            Assert.NotEqual(0, read);
            filled += read;
        }

        await sending;
        Assert.Equal(sent, received);

        var pending = stream.ReadAsync(new byte[10]).AsTask();
        await stream.WriteAsync("ping"u8.ToArray());
        byte[] echo = new byte[4];
        await peerStream.ReadExactlyAsync(echo);
        Assert.Equal("ping"u8.ToArray(), echo);
        Assert.False(pending.IsCompleted, "nothing came the other way");
        peer.Client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await pending);
    }
}
