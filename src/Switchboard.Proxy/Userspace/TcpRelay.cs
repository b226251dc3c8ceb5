using System.Buffers;
using System.Net.Sockets;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// Copies one proxied TCP connection both ways until both sides have finished. Each direction borrows one buffer from
/// the shared pool for the connection's life and uses the Memory-based socket calls, which complete through the
/// socket's own cached event args: the copy loop itself allocates nothing. A half-close is passed on (shutdown of the
/// write side), so request/response protocols that close their sending side work; an error on either side ends both.
/// </summary>
internal static class TcpRelay
{
    /// <summary>Large enough for a bulk transfer to move in few system calls (see the notes' Go/Tokio buffer figures).</summary>
    public const int BufferSize = 64 * 1024;

    public static async Task RunAsync(Socket client, Socket backend)
    {
        try
        {
            Task toBackend = CopyAsync(client, backend);
            Task toClient = CopyAsync(backend, client);
            await toBackend;
            await toClient;
        }
        finally
        {
            client.Dispose();
            backend.Dispose();
        }
    }

    /// <summary>Resets both sides at once (the proxy stops, or the service port closes).</summary>
    public static void Abort((Socket Client, Socket Backend) sockets)
    {
        sockets.Client.Dispose();
        sockets.Backend.Dispose();
    }

    private static async Task CopyAsync(Socket from, Socket to)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // A reset or a closed peer on one side: the other side is reset too, which also ends the other direction.
            Abort((from, to));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
