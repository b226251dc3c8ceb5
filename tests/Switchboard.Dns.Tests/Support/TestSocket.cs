using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Switchboard.Dns.Tests.Support;

/// <summary>Raw UDP and TCP exchanges with a server, every wait bounded by a deadline that names what was awaited.</summary>
internal static class TestSocket
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static async Task<byte[]> ReceiveUdpAsync(Socket socket, string awaited)
    {
        byte[] buffer = new byte[ushort.MaxValue];
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            int length = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            return buffer[..length];
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no UDP datagram within {Deadline}: awaited {awaited}");
        }
    }

    public static async Task<Socket> ConnectTcpAsync(IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server);
        return socket;
    }

    public static byte[] Frame(byte[] message) => [(byte)(message.Length >> 8), (byte)message.Length, .. message];

    /// <summary>Reads one length-prefixed message, or null when the server closed the connection first.</summary>
    public static async Task<byte[]?> ReceiveFrameAsync(Socket socket, string awaited)
    {
        byte[] prefix = new byte[2];
        if (!await ReceiveExactlyAsync(socket, prefix, awaited))
        {
            return null;
        }

        byte[] message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        return await ReceiveExactlyAsync(socket, message, awaited) ? message : null;
    }

    /// <summary>Waits until the server closes the connection; fails if it sends anything instead.</summary>
    public static async Task AssertClosedAsync(Socket socket, string why)
    {
        byte[] buffer = new byte[1];
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            Assert.True(read == 0, $"{why}: expected the server to close, it sent data");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // A reset is a close too.
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the server did not close the connection within {Deadline}: {why}");
        }
    }

    private static async Task<bool> ReceiveExactlyAsync(Socket socket, byte[] buffer, string awaited)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        int filled = 0;
        try
        {
            while (filled < buffer.Length)
            {
                int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    return false;
                }

                filled += read;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no complete TCP message within {Deadline}: awaited {awaited}");
        }

        return true;
    }
}
