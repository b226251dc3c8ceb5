using System.Net;
using System.Net.Sockets;
using Switchboard.Dns.Server;
using Switchboard.Dns.Tests.Support;

namespace Switchboard.Dns.Tests.Server;

/// <summary>
/// The batch's sends over real loopback sockets: replies of one length to one client leave as one segmented (UDP GSO)
/// message, which the kernel must cut back into exactly the datagrams queued, each to its own client.
/// </summary>
public sealed class UdpBatchTests
{
    [Fact]
    public async Task Every_reply_arrives_whole_at_its_own_client_when_lengths_and_clients_mix()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using Socket first = Client(server);
        using Socket second = Client(server);
        // Two lengths from the first client, interleaved, and one length from the second: three groups in one batch.
        byte[][] fromFirst = [.. Enumerable.Range(0, 12).Select(i => Message(tag: 1, i, length: i % 2 == 0 ? 40 : 61))];
        byte[][] fromSecond = [.. Enumerable.Range(0, 5).Select(i => Message(tag: 2, i, length: 40))];
        foreach ((Socket client, byte[] message) in fromFirst.Select(m => (first, m)).Concat(fromSecond.Select(m => (second, m))))
        {
            client.Send(message);
        }

        EchoAll(server, fromFirst.Length + fromSecond.Length);

        AssertReceived(fromFirst, await ReceiveAsync(first, fromFirst.Length));
        AssertReceived(fromSecond, await ReceiveAsync(second, fromSecond.Length));
    }

    private static Socket Client(Socket server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(server.LocalEndPoint!);
        return socket;
    }

    /// <summary>A datagram that says who sent it and which one it is, padded to <paramref name="length"/>.</summary>
    private static byte[] Message(byte tag, int index, int length)
    {
        byte[] message = new byte[length];
        message.AsSpan().Fill((byte)(length + index));
        message[0] = tag;
        message[1] = (byte)index;
        return message;
    }

    /// <summary>Replies to each datagram with a copy of it, through batches, until <paramref name="expected"/> are answered.</summary>
    private static void EchoAll(Socket server, int expected)
    {
        using var batch = new UdpBatch(responseBytes: 1232);
        int fd = (int)server.SafeHandle.DangerousGetHandle();
        for (int answered = 0; answered < expected;)
        {
            int count = batch.Receive(fd, out int error);
            Assert.True(count > 0, $"recvmmsg failed with errno {error}");
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> query = batch.Query(i);
                query.CopyTo(batch.Response(i));
                batch.Reply(i, query.Length);
            }

            Assert.Equal(0, batch.Flush(fd));
            answered += count;
        }
    }

    private static async Task<List<byte[]>> ReceiveAsync(Socket client, int count)
    {
        var received = new List<byte[]>();
        while (received.Count < count)
        {
            received.Add(await TestSocket.ReceiveUdpAsync(client, $"echo {received.Count + 1} of {count}"));
        }

        return received;
    }

    /// <summary>The same datagrams, byte for byte; those of one length in the order they were sent.</summary>
    private static void AssertReceived(byte[][] sent, List<byte[]> received)
    {
        Assert.Equal(
            sent.Select(Convert.ToHexString).Order(),
            received.Select(Convert.ToHexString).Order());
        foreach (IGrouping<int, byte[]> sameLength in sent.GroupBy(m => m.Length))
        {
            Assert.Equal(sameLength.Select(Convert.ToHexString), received.Where(m => m.Length == sameLength.Key).Select(Convert.ToHexString));
        }
    }
}
