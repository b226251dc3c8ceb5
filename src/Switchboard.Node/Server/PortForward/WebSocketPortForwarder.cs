using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Switchboard.Node.Server.PortForward;

/// <summary>
/// kubelet's older WebSocket port-forward (cri/streaming/portforward/websocket.go), what KubernetesClient's
/// <c>WebSocketNamespacedPodPortForwardAsync</c> speaks: the ports are fixed by the query, port i has channel 2i for its
/// bytes both ways and 2i+1 for an error the server reports; each channel's first message is the port, 2 bytes little
/// endian. One TCP connection per port; the WebSocket closes once every port's connection has ended. With a
/// <c>base64.channel.k8s.io</c> subprotocol, messages are text: the channel as an ASCII digit, then base64.
/// </summary>
internal sealed partial class WebSocketPortForwarder(Func<int, CancellationToken, Task<Socket>> dial, string pod, ILogger logger)
{
    /// <summary>The subprotocols kubelet accepts for it (none at all is accepted too).</summary>
    public static readonly string[] Subprotocols = ["v4.channel.k8s.io", "v4.base64.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io"];

    private const int PayloadSize = 64 * 1024;

    /// <summary>How long the client has to answer the server's close before the connection is dropped.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    /// <summary>Room for the largest frame read whole: KubernetesClient's demuxer reads into 1 MiB itself.</summary>
    private const int FrameBufferSize = (1024 * 1024) + 1;
    private readonly SemaphoreSlim _send = new(1, 1);

    /// <summary>Forwards <paramref name="ports"/> over <paramref name="webSocket"/> until every connection ends.</summary>
    public async Task RunAsync(WebSocket webSocket, IReadOnlyList<int> ports, bool base64, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(webSocket);
        ArgumentNullException.ThrowIfNull(ports);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var connections = new Task<Socket?>[ports.Count];
        try
        {
            byte[] prefix = new byte[2];
            for (int i = 0; i < ports.Count; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(prefix, (ushort)ports[i]);
                await SendAsync(webSocket, (byte)(2 * i), prefix, base64, session.Token);
                await SendAsync(webSocket, (byte)((2 * i) + 1), prefix, base64, session.Token);
            }

            for (int i = 0; i < ports.Count; i++)
            {
                connections[i] = ConnectAsync(webSocket, i, ports[i], base64, session.Token);
            }

            var receive = ReceiveAsync(webSocket, connections, base64, session.Token);
            await Task.WhenAll(connections.Select((connection, i) => ForwardAsync(webSocket, i, connection, base64, session.Token)));
            await webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, session.Token);
            // The client answers the close; cancelling the read instead would abort the WebSocket under it.
            await Task.WhenAny(receive, Task.Delay(CloseGrace, session.Token));
            await session.CancelAsync();
            await receive;
        }
        catch (Exception e) when (e is IOException or WebSocketException or OperationCanceledException)
        {
            LogEnded(logger, pod, e.Message);
        }
        finally
        {
            await session.CancelAsync();
            foreach (var connection in connections)
            {
                if (connection is { IsCompletedSuccessfully: true, Result: { } socket })
                {
                    socket.Dispose();
                }
            }

            _send.Dispose();
        }
    }

    /// <summary>Port <paramref name="index"/>'s connection in the pod, or null after reporting on its error channel why there is none.</summary>
    private async Task<Socket?> ConnectAsync(WebSocket webSocket, int index, int port, bool base64, CancellationToken cancellationToken)
    {
        try
        {
            return await dial(port, cancellationToken);
        }
        catch (SocketException e)
        {
            string message = $"error forwarding port {port} to pod {pod}: failed to connect to localhost:{port} inside the pod's network namespace: {e.Message}";
            LogForwardFailed(logger, pod, message);
            await SendAsync(webSocket, (byte)((2 * index) + 1), Encoding.UTF8.GetBytes(message), base64, cancellationToken);
            return null;
        }
    }

    /// <summary>The pod's bytes of port <paramref name="index"/> out on its data channel until the pod ends the connection.</summary>
    private async Task ForwardAsync(WebSocket webSocket, int index, Task<Socket?> connection, bool base64, CancellationToken cancellationToken)
    {
        if (await connection is not { } socket)
        {
            return;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(PayloadSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer.AsMemory(0, PayloadSize), SocketFlags.None, cancellationToken);
                }
                catch (SocketException)
                {
                    read = 0;
                }

                if (read == 0)
                {
                    return;
                }

                await SendAsync(webSocket, (byte)(2 * index), buffer.AsMemory(0, read), base64, cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The client's frames on even channels go to that port's connection; its close half-closes them all. kubelet
    /// (x/net/websocket) takes each frame as a message with its own channel byte, and KubernetesClient's demuxer relies
    /// on that: it sends every write as one more fragment of a message it never ends. So each fragment read here is a
    /// message, read into a buffer larger than any frame the demuxer makes.
    /// </summary>
    private static async Task ReceiveAsync(WebSocket webSocket, Task<Socket?>[] connections, bool base64, CancellationToken cancellationToken)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(FrameBufferSize);
        try
        {
            while (true)
            {
                var result = await webSocket.ReceiveAsync(frame, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (result.Count < 1)
                {
                    continue;
                }

                int channel = base64 ? frame[0] - '0' : frame[0];
                ReadOnlyMemory<byte> payload = base64
                    ? Convert.FromBase64String(Encoding.ASCII.GetString(frame, 1, result.Count - 1))
                    : frame.AsMemory(1, result.Count - 1);
                if (channel % 2 == 0 && channel / 2 < connections.Length && !payload.IsEmpty && await connections[channel / 2] is { } socket)
                {
                    await SendToPodAsync(socket, payload, cancellationToken);
                }
            }

            foreach (var connection in connections)
            {
                ShutdownSend(await connection);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or FormatException)
        {
            // The client went away, the session ended, or a base64 message was not base64: the forwards end with it.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static async Task SendToPodAsync(Socket socket, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        try
        {
            await socket.SendAsync(payload, SocketFlags.None, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // That port's connection ended; the client's bytes for it have nowhere to go.
        }
    }

    private static void ShutdownSend(Socket? socket)
    {
        try
        {
            socket?.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    private async Task SendAsync(WebSocket webSocket, byte channel, ReadOnlyMemory<byte> payload, bool base64, CancellationToken cancellationToken)
    {
        byte[] message;
        int length;
        if (base64)
        {
            string text = (char)('0' + channel) + Convert.ToBase64String(payload.Span);
            message = Encoding.ASCII.GetBytes(text);
            length = message.Length;
        }
        else
        {
            length = payload.Length + 1;
            message = ArrayPool<byte>.Shared.Rent(length);
            message[0] = channel;
            payload.CopyTo(message.AsMemory(1));
        }

        await _send.WaitAsync(cancellationToken);
        try
        {
            await webSocket.SendAsync(message.AsMemory(0, length), base64 ? WebSocketMessageType.Text : WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _send.Release();
            if (!base64)
            {
                ArrayPool<byte>.Shared.Return(message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "port-forward to {Pod}: {Message}")]
    private static partial void LogForwardFailed(ILogger logger, string pod, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "port-forward to {Pod} (WebSocket channels): ended: {Message}")]
    private static partial void LogEnded(ILogger logger, string pod, string message);
}
