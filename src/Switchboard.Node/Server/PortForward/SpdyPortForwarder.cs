using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Switchboard.Node.Server.Spdy;

namespace Switchboard.Node.Server.PortForward;

/// <summary>
/// kubelet's port-forward over one SPDY/3 connection (client-go tools/portforward, kubelet's
/// cri/streaming/portforward/httpstream.go): kubectl opens an error and a data stream per local TCP connection, tagged
/// with the remote <c>port</c> and a shared <c>requestid</c>; every stream gets a SYN_REPLY, a complete pair is one
/// TCP connection to 127.0.0.1:port in the pod's network namespace, pumped both ways with half-closes carried as FIN.
/// A connection the pod refuses is written as text on that request's error stream; the SPDY connection, and every
/// other forwarded connection on it, goes on. PINGs are echoed; there is no flow control, as spdystream has none.
/// </summary>
internal sealed partial class SpdyPortForwarder : IDisposable
{
    /// <summary>kubelet's wait for a request's second stream.</summary>
    public static readonly TimeSpan PairingTimeout = TimeSpan.FromSeconds(30);

    private const int PayloadSize = 256 * 1024;
    private const int InboundFrames = 32;
    private readonly ConcurrentDictionary<string, ForwardedConnection> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<uint, ForwardedConnection> _byDataStream = new();
    private readonly ConcurrentDictionary<Task, bool> _forwards = new();
    private readonly Stream _transport;
    private readonly SpdyFrameWriter _writer;
    private readonly Func<int, CancellationToken, Task<Socket>> _dial;
    private readonly string _pod;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private bool _goingAway;

    /// <summary>
    /// A forwarder for the SPDY connection on <paramref name="transport"/>, whose <paramref name="dial"/> connects to
    /// 127.0.0.1:port inside the pod (throwing <see cref="SocketException"/> when refused) and whose error messages name
    /// the pod as <paramref name="pod"/>.
    /// </summary>
    public SpdyPortForwarder(Stream transport, Func<int, CancellationToken, Task<Socket>> dial, string pod, TimeProvider time, ILogger logger)
    {
        _transport = transport;
        _writer = new SpdyFrameWriter(transport);
        _dial = dial;
        _pod = pod;
        _time = time;
        _logger = logger;
    }

    /// <summary>Serves the connection until the peer ends it or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var reader = new SpdyFrameReader(_transport);
        try
        {
            while (await reader.ReadAsync(session.Token) is { } frame)
            {
                await HandleAsync(frame, session.Token);
            }
        }
        catch (InvalidDataException e)
        {
            LogProtocolError(_logger, _pod, e.Message);
            await TryAsync(() => _writer.WriteGoAwayAsync(0, 1, session.Token));
        }
        catch (Exception e) when (e is IOException or WebSocketException or OperationCanceledException)
        {
            LogConnectionEnded(_logger, _pod, e.Message);
        }
        finally
        {
            await session.CancelAsync();
            await Task.WhenAll(_forwards.Keys);
            foreach (var connection in _pending.Values.Concat(_byDataStream.Values))
            {
                connection.Discard();
            }
        }
    }

    public void Dispose() => _writer.Dispose();

    private async Task HandleAsync(SpdyFrame frame, CancellationToken cancellationToken)
    {
        switch (frame.Type)
        {
            case SpdyFrameType.SynStream:
                await OpenStreamAsync(frame, cancellationToken);
                break;
            case SpdyFrameType.Data:
                await ReceiveDataAsync(frame, cancellationToken);
                break;
            case SpdyFrameType.RstStream:
                if (_byDataStream.TryGetValue(frame.StreamId, out var reset))
                {
                    reset.Reset();
                }

                break;
            case SpdyFrameType.Ping when frame.Value % 2 == 1:
                // The client's ids are odd; an even id would be the answer to a ping of ours, and we send none.
                await _writer.WritePingAsync(frame.Value, cancellationToken);
                break;
            case SpdyFrameType.GoAway:
                _goingAway = true;
                break;
            default:
                // SETTINGS, WINDOW_UPDATE, HEADERS and SYN_REPLY change nothing here (no flow control, we open no streams).
                break;
        }
    }

    private async Task OpenStreamAsync(SpdyFrame frame, CancellationToken cancellationToken)
    {
        uint id = frame.StreamId;
        if (_goingAway)
        {
            await _writer.WriteRstStreamAsync(id, SpdyRstStatus.RefusedStream, cancellationToken);
            return;
        }

        var headers = frame.Headers!;
        string? type = headers.GetValueOrDefault("streamtype");
        bool isData = type == "data";
        if (!(isData || type == "error")
            || !int.TryParse(headers.GetValueOrDefault("port"), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            LogBadStream(_logger, _pod, id, type ?? "", headers.GetValueOrDefault("port") ?? "");
            await _writer.WriteRstStreamAsync(id, SpdyRstStatus.ProtocolError, cancellationToken);
            return;
        }

        // Without a requestid, kubelet pairs the error stream n with the data stream n+2, as old clients open them.
        string requestId = headers.GetValueOrDefault("requestid") ?? (isData ? id - 2 : id).ToString(CultureInfo.InvariantCulture);
        await _writer.WriteSynReplyAsync(id, new Dictionary<string, string>(), cancellationToken);
        var connection = _pending.GetOrAdd(requestId, key => new ForwardedConnection(key, port));
        bool added = isData ? connection.TrySetData(id) : connection.TrySetError(id);
        if (!added)
        {
            await _writer.WriteRstStreamAsync(id, SpdyRstStatus.ProtocolError, cancellationToken);
            return;
        }

        if (isData)
        {
            _byDataStream[id] = connection;
        }

        if (connection is { DataStream: { } dataStream, ErrorStream: { } errorStream })
        {
            _pending.TryRemove(requestId, out _);
            Track(ForwardAsync(connection, dataStream, errorStream, cancellationToken));
        }
        else if (connection.DataStream is null ^ connection.ErrorStream is null)
        {
            Track(ExpireAsync(connection, cancellationToken));
        }
    }

    private async Task ReceiveDataAsync(SpdyFrame frame, CancellationToken cancellationToken)
    {
        if (!_byDataStream.TryGetValue(frame.StreamId, out var connection))
        {
            // The error stream's (kubectl closes it unused), or a stream already ended.
            ArrayPool<byte>.Shared.Return(frame.Data!);
            return;
        }

        if (frame.Length > 0)
        {
            await connection.DeliverAsync(frame.Data!, frame.Length, cancellationToken);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(frame.Data!);
        }

        if (frame.Fin)
        {
            connection.CloseInbound();
        }
    }

    /// <summary>Resets a request whose second stream did not come in time, as kubelet does.</summary>
    private async Task ExpireAsync(ForwardedConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(PairingTimeout, _time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (_pending.TryRemove(new KeyValuePair<string, ForwardedConnection>(connection.RequestId, connection)))
        {
            LogPairingTimeout(_logger, _pod, connection.RequestId);
            foreach (uint? stream in (uint?[])[connection.ErrorStream, connection.DataStream])
            {
                if (stream is { } id)
                {
                    _byDataStream.TryRemove(id, out _);
                    await TryAsync(() => _writer.WriteRstStreamAsync(id, SpdyRstStatus.RefusedStream, cancellationToken));
                }
            }

            connection.Discard();
        }
    }

    private async Task ForwardAsync(ForwardedConnection connection, uint dataStream, uint errorStream, CancellationToken cancellationToken)
    {
        using var forward = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connection.ResetToken);
        try
        {
            Socket socket;
            try
            {
                socket = await _dial(connection.Port, forward.Token);
            }
            catch (SocketException e)
            {
                string message = $"error forwarding port {connection.Port} to pod {_pod}: failed to connect to localhost:{connection.Port} inside the pod's network namespace: {e.Message}";
                LogForwardFailed(_logger, _pod, message);
                await _writer.WriteDataAsync(errorStream, Encoding.UTF8.GetBytes(message), fin: true, cancellationToken);
                await _writer.WriteDataAsync(dataStream, [], fin: true, cancellationToken);
                return;
            }

            using (socket)
            {
                var upload = UploadAsync(connection, socket, forward.Token);
                bool downloaded = false;
                try
                {
                    await DownloadAsync(socket, dataStream, forward.Token);
                    downloaded = true;
                }
                finally
                {
                    if (!downloaded)
                    {
                        await forward.CancelAsync();
                    }

                    // Until the client's side ends too: its FIN, or the reset kubectl sends once the pod's side ended.
                    await upload;
                }
            }

            await _writer.WriteDataAsync(errorStream, [], fin: true, cancellationToken);
        }
        catch (Exception e) when (e is IOException or WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The session ended, or the client reset the data stream: its error stream still ends, so kubectl stops waiting.
            if (!cancellationToken.IsCancellationRequested)
            {
                await TryAsync(() => _writer.WriteDataAsync(errorStream, [], fin: true, cancellationToken));
            }
        }
        finally
        {
            _byDataStream.TryRemove(dataStream, out _);
            connection.Discard();
        }
    }

    /// <summary>The pod's bytes as DATA frames on <paramref name="dataStream"/>, then a FIN when the pod ends its side.</summary>
    private async Task DownloadAsync(Socket socket, uint dataStream, CancellationToken cancellationToken)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(SpdyFrameWriter.DataHeaderLength + PayloadSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await socket.ReceiveAsync(frame.AsMemory(SpdyFrameWriter.DataHeaderLength, PayloadSize), SocketFlags.None, cancellationToken);
                }
                catch (SocketException)
                {
                    // The pod reset its connection: the client sees it end.
                    read = 0;
                }

                await _writer.WriteDataFrameAsync(dataStream, frame, read, fin: read == 0, cancellationToken);
                if (read == 0)
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>The client's DATA payloads to the pod, then a half-close when the client sends FIN.</summary>
    private static async Task UploadAsync(ForwardedConnection connection, Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (buffer, length) in connection.Inbound.ReadAllAsync(cancellationToken))
            {
                try
                {
                    await socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellationToken);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The pod closed its side (what the client still sends has nowhere to go), the client reset the data
            // stream (kubectl does once the pod's side ended), or the session ended.
        }
    }

    private void Track(Task task)
    {
        _forwards[task] = true;
        _ = task.ContinueWith(t => _forwards.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static async Task TryAsync(Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (Exception e) when (e is IOException or WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is gone; nothing more can be said on it.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "port-forward to {Pod}: {Message}")]
    private static partial void LogForwardFailed(ILogger logger, string pod, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "port-forward to {Pod}: protocol error, closing: {Message}")]
    private static partial void LogProtocolError(ILogger logger, string pod, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "port-forward to {Pod}: connection ended: {Message}")]
    private static partial void LogConnectionEnded(ILogger logger, string pod, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "port-forward to {Pod}: stream {StreamId} refused: streamtype \"{Type}\", port \"{Port}\"")]
    private static partial void LogBadStream(ILogger logger, string pod, uint streamId, string type, string port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "port-forward to {Pod}: request {RequestId} got one of its two streams in 30s; reset")]
    private static partial void LogPairingTimeout(ILogger logger, string pod, string requestId);

    /// <summary>One forwarded TCP connection: its request's pair of streams, and the client's bytes not yet sent to the pod.</summary>
    private sealed class ForwardedConnection(string requestId, int port)
    {
        private readonly CancellationTokenSource _reset = new();
        private readonly Channel<(byte[] Buffer, int Length)> _inbound = Channel.CreateBounded<(byte[], int)>(
            new BoundedChannelOptions(InboundFrames) { SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

        public string RequestId { get; } = requestId;

        public int Port { get; } = port;

        public uint? ErrorStream { get; private set; }

        public uint? DataStream { get; private set; }

        public ChannelReader<(byte[] Buffer, int Length)> Inbound => _inbound.Reader;

        public CancellationToken ResetToken => _reset.Token;

        public bool TrySetError(uint id)
        {
            if (ErrorStream is not null)
            {
                return false;
            }

            ErrorStream = id;
            return true;
        }

        public bool TrySetData(uint id)
        {
            if (DataStream is not null)
            {
                return false;
            }

            DataStream = id;
            return true;
        }

        /// <summary>Queues a DATA payload for the pod (waiting while the pod is behind); dropped once the connection ended.</summary>
        public async ValueTask DeliverAsync(byte[] buffer, int length, CancellationToken cancellationToken)
        {
            try
            {
                await _inbound.Writer.WriteAsync((buffer, length), cancellationToken);
            }
            catch (ChannelClosedException)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public void Reset()
        {
            _reset.Cancel();
            Discard();
        }

        /// <summary>The client's FIN: what is queued still goes to the pod, then its side is shut.</summary>
        public void CloseInbound() => _inbound.Writer.TryComplete();

        /// <summary>The connection is over: the queue ends, and what nobody will send is returned to the pool.</summary>
        public void Discard()
        {
            _inbound.Writer.TryComplete();
            while (_inbound.Reader.TryRead(out var item))
            {
                ArrayPool<byte>.Shared.Return(item.Buffer);
            }
        }
    }
}
