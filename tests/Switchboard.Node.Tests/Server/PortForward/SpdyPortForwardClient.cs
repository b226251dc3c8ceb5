using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Switchboard.Node.Server.PortForward;
using Switchboard.Node.Server.Spdy;

namespace Switchboard.Node.Tests.Server.PortForward;

/// <summary>
/// kubectl's side of a SPDY port-forward (client-go tools/portforward), driven over the node's own framer so tests can
/// reach the node's <c>/portForward</c> without an API server in front: per forwarded connection an error stream
/// and a data stream sharing a requestid, the error stream closed unused, bytes as DATA frames, FIN for a half-close.
/// </summary>
internal sealed class SpdyPortForwardClient : IAsyncDisposable
{
    private readonly Stream _transport;
    private readonly SpdyFrameReader _reader;
    private readonly SpdyFrameWriter _writer;
    private readonly ConcurrentDictionary<uint, ClientStream> _streams = new();
    private readonly ConcurrentDictionary<uint, TaskCompletionSource> _pings = new();
    private readonly SemaphoreSlim _open = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private uint _nextStream = 1;
    private int _nextRequest;

    private SpdyPortForwardClient(Stream transport)
    {
        _transport = transport;
        _reader = new SpdyFrameReader(transport);
        _writer = new SpdyFrameWriter(transport);
        _loop = Task.Run(ReadLoopAsync);
    }

    /// <summary>
    /// kubectl 1.32's way: a WebSocket offering <see cref="PortForwardHandler.TunnelSubprotocol"/>, SPDY in its binary
    /// messages. The handshake is written by hand: ClientWebSocket refuses a subprotocol with a '/'.
    /// </summary>
    public static async Task<SpdyPortForwardClient> ConnectWebSocketAsync(int port, string path, NodeTls tls)
    {
        var ssl = await ConnectTlsAsync(port, tls);
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        string head = await UpgradeAsync(ssl, $"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {PortForwardHandler.TunnelSubprotocol}\r\n\r\n");
        Assert.Contains($"Sec-WebSocket-Protocol: {PortForwardHandler.TunnelSubprotocol}", head, StringComparison.OrdinalIgnoreCase);
        var webSocket = WebSocket.CreateFromStream(ssl, new WebSocketCreationOptions { IsServer = false });
        return new SpdyPortForwardClient(WebSocketStream.Create(webSocket, WebSocketMessageType.Binary, ownsWebSocket: true));
    }

    /// <summary>kubectl's fallback: a POST with <c>Upgrade: SPDY/3.1</c>, then SPDY on the TLS connection itself.</summary>
    public static async Task<SpdyPortForwardClient> ConnectSpdyAsync(int port, string path, NodeTls tls)
    {
        var ssl = await ConnectTlsAsync(port, tls);
        string head = await UpgradeAsync(ssl, $"POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n" +
            $"X-Stream-Protocol-Version: {PortForwardHandler.Protocol}\r\nContent-Length: 0\r\n\r\n");
        Assert.Contains($"X-Stream-Protocol-Version: {PortForwardHandler.Protocol}", head, StringComparison.OrdinalIgnoreCase);
        return new SpdyPortForwardClient(ssl);
    }

    /// <summary>Opens the pair of streams of one forwarded connection to <paramref name="port"/>, as kubectl does for each local connection.</summary>
    public async Task<ForwardedConnection> OpenAsync(int port)
    {
        string requestId = (Interlocked.Increment(ref _nextRequest) - 1).ToString(CultureInfo.InvariantCulture);
        uint errorId;
        uint dataId;
        await _open.WaitAsync();
        try
        {
            // Stream ids must rise in the order their SYN_STREAMs are sent.
            errorId = _nextStream;
            dataId = _nextStream + 2;
            _nextStream += 4;
            var error = _streams[errorId] = new ClientStream();
            await _writer.WriteSynStreamAsync(errorId, Headers("error", port, requestId), fin: false, CancellationToken.None);
            await error.Reply.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await _writer.WriteDataAsync(errorId, [], fin: true, CancellationToken.None);
            var data = _streams[dataId] = new ClientStream();
            await _writer.WriteSynStreamAsync(dataId, Headers("data", port, requestId), fin: false, CancellationToken.None);
            await data.Reply.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            _open.Release();
        }

        return new ForwardedConnection(this, errorId, dataId);
    }

    /// <summary>Sends a PING with the client's (odd) <paramref name="id"/> and waits for its echo.</summary>
    public async Task PingAsync(uint id)
    {
        var echo = _pings[id] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _writer.WritePingAsync(id, CancellationToken.None);
        await echo.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Sends bytes the node's frame reader must take apart (a malformed frame, say).</summary>
    public async Task WriteRawAsync(byte[] bytes)
    {
        await _transport.WriteAsync(bytes);
        await _transport.FlushAsync();
    }

    /// <summary>Completes when the node ends the connection.</summary>
    public Task Completion => _loop;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _writer.WriteGoAwayAsync(0, 0, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or WebSocketException or ObjectDisposedException)
        {
            // The node closed first.
        }

        await _stop.CancelAsync();
        await _transport.DisposeAsync();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is IOException or WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Disposing the transport ends the read loop.
        }

        _reader.Dispose();
        _writer.Dispose();
        _open.Dispose();
        _stop.Dispose();
    }

    private static Dictionary<string, string> Headers(string type, int port, string requestId) => new()
    {
        ["streamtype"] = type,
        ["port"] = port.ToString(CultureInfo.InvariantCulture),
        ["requestid"] = requestId,
    };

    private static async Task<SslStream> ConnectTlsAsync(int port, NodeTls tls)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [tls.Client],
            RemoteCertificateValidationCallback = (_, server, _, _) => tls.Trusts(server),
        });
        return ssl;
    }

    /// <summary>Sends <paramref name="request"/> and reads the response head, which must be a 101.</summary>
    private static async Task<string> UpgradeAsync(Stream stream, string request)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new IOException("the connection ended inside the response head: " + head);
            }

            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return head.ToString();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await _reader.ReadAsync(_stop.Token) is { } frame)
            {
                switch (frame.Type)
                {
                    case SpdyFrameType.SynReply when _streams.TryGetValue(frame.StreamId, out var stream):
                        stream.Reply.TrySetResult();
                        break;
                    case SpdyFrameType.Data when _streams.TryGetValue(frame.StreamId, out var stream):
                        await stream.Data.Writer.WriteAsync(frame.Payload.ToArray());
                        if (frame.Fin)
                        {
                            stream.Data.Writer.TryComplete();
                        }

                        break;
                    case SpdyFrameType.RstStream when _streams.TryGetValue(frame.StreamId, out var stream):
                        stream.Reply.TrySetException(new IOException($"stream {frame.StreamId} reset: {(SpdyRstStatus)frame.Value}"));
                        stream.Data.Writer.TryComplete(new IOException($"stream {frame.StreamId} reset: {(SpdyRstStatus)frame.Value}"));
                        break;
                    case SpdyFrameType.Ping when _pings.TryRemove(frame.Value, out var echo):
                        echo.TrySetResult();
                        break;
                    default:
                        break;
                }
            }
        }
        finally
        {
            foreach (var stream in _streams.Values)
            {
                stream.Reply.TrySetException(new IOException("the SPDY connection ended"));
                stream.Data.Writer.TryComplete();
            }
        }
    }

    /// <summary>What the client knows of one of its streams: whether the node replied, and the DATA it sent.</summary>
    private sealed class ClientStream
    {
        public TaskCompletionSource Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Channel<byte[]> Data { get; } = Channel.CreateUnbounded<byte[]>();
    }

    /// <summary>One forwarded TCP connection through the node: bytes out, bytes in until the node's FIN, and its error stream.</summary>
    internal sealed class ForwardedConnection(SpdyPortForwardClient client, uint errorId, uint dataId)
    {
        public Task SendAsync(string text) => client._writer.WriteDataAsync(dataId, Encoding.UTF8.GetBytes(text), fin: false, CancellationToken.None);

        public Task SendAsync(byte[] bytes) => client._writer.WriteDataAsync(dataId, bytes, fin: false, CancellationToken.None);

        /// <summary>The client's half-close (kubectl's when its local connection reaches EOF).</summary>
        public Task CloseWriteAsync() => client._writer.WriteDataAsync(dataId, [], fin: true, CancellationToken.None);

        /// <summary>What the pod sent, up to the node's FIN on the data stream.</summary>
        public Task<string> ReceiveAllAsync() => ReadToEndAsync(dataId);

        /// <summary>The error stream's text (empty when the forward went well), up to its FIN.</summary>
        public Task<string> ErrorAsync() => ReadToEndAsync(errorId);

        /// <summary>kubectl's reset of the data stream once the pod's side ended.</summary>
        public Task ResetAsync() => client._writer.WriteRstStreamAsync(dataId, SpdyRstStatus.Cancel, CancellationToken.None);

        private async Task<string> ReadToEndAsync(uint id)
        {
            var bytes = new MemoryStream();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await foreach (byte[] chunk in client._streams[id].Data.Reader.ReadAllAsync(timeout.Token))
            {
                bytes.Write(chunk);
            }

            return Encoding.UTF8.GetString(bytes.ToArray());
        }
    }
}
