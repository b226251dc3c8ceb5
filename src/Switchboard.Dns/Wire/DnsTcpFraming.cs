using System.Net.Sockets;

namespace Switchboard.Dns.Wire;

/// <summary>DNS over TCP's framing (RFC 1035 4.2.2): each message behind a 2-byte big-endian length.</summary>
internal static class DnsTcpFraming
{
    public const int LengthPrefix = 2;

    /// <summary>Fills <paramref name="buffer"/>; false when the peer closed first.</summary>
    public static async ValueTask<bool> TryReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await socket.ReceiveAsync(buffer[filled..], SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return false;
            }

            filled += read;
        }

        return true;
    }
}
