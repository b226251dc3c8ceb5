using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.Trace;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Server;

/// <summary>
/// DNS over TCP (RFC 7766): 2-byte length framing, any number of pipelined queries per connection
/// answered in order, an idle timeout that also bounds slow senders, and a connection cap.
/// </summary>
internal sealed class DnsTcpServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly DnsQueryHandler _handler;
    private readonly DnsForwarder? _forwarder;
    private readonly DnsObserver? _observer;
    private readonly DnsServerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<Task> _connections = [];
    private readonly Task _acceptLoop;

    private DnsTcpServer(Socket listener, DnsQueryHandler handler, DnsForwarder? forwarder, DnsObserver? observer, DnsServerOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _listener = listener;
        _handler = handler;
        _forwarder = forwarder;
        _observer = observer;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _acceptLoop = AcceptAsync();
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public static DnsTcpServer Start(IPEndPoint endPoint, DnsQueryHandler handler, DnsForwarder? forwarder, DnsObserver? observer, DnsServerOptions options, TimeProvider timeProvider, ILogger logger)
    {
        var listener = options.CreateSocket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(endPoint);
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new DnsTcpServer(listener, handler, forwarder, observer, options, timeProvider, logger);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        Task[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || _stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                DnsServerLog.TcpAcceptFailed(_logger, e);
                continue;
            }

            lock (_connections)
            {
                if (_connections.Count >= _options.MaxTcpConnections)
                {
                    DnsServerLog.TcpLimitReached(_logger, _options.MaxTcpConnections);
                    client.Dispose();
                    continue;
                }

                Task connection = ServeAsync(client);
                _connections.Add(connection);
                _ = connection.ContinueWith(Forget, TaskScheduler.Default);
            }
        }
    }

    private void Forget(Task connection)
    {
        lock (_connections)
        {
            _connections.Remove(connection);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        // Start on the thread pool so a slow connection never holds up the accept loop.
        await Task.Yield();
        byte[] query = ArrayPool<byte>.Shared.Rent(DnsPayloadLimit.MaxMessageSize);
        byte[] response = ArrayPool<byte>.Shared.Rent(DnsTcpFraming.LengthPrefix + DnsPayloadLimit.MaxMessageSize);
        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(idle.Token, _stop.Token);
        string reason = "closed by client";
        try
        {
            while (true)
            {
                idle.CancelAfter(_options.TcpIdleTimeout);
                if (!await DnsTcpFraming.TryReceiveExactlyAsync(client, query.AsMemory(0, DnsTcpFraming.LengthPrefix), linked.Token))
                {
                    break;
                }

                int length = BinaryPrimitives.ReadUInt16BigEndian(query);
                if (length == 0 || !await DnsTcpFraming.TryReceiveExactlyAsync(client, query.AsMemory(0, length), linked.Token))
                {
                    reason = "empty or incomplete message";
                    break;
                }

                long started = DnsObserver.Start();
                int answer = Handle(query.AsSpan(0, length), response.AsSpan(DnsTcpFraming.LengthPrefix, DnsPayloadLimit.MaxMessageSize), client, out DnsAnswerSource source);
                IPEndPoint? upstream = null;
                if (answer == DnsForwarder.Pending)
                {
                    // Answers on a connection go out in order, so the exchange is awaited here (RFC 7766 allows either).
                    (answer, upstream) = await _forwarder!.ResolveAsync(
                        query.AsMemory(0, length), response.AsMemory(DnsTcpFraming.LengthPrefix, DnsPayloadLimit.MaxMessageSize), overTcp: true, linked.Token);
                    source = DnsAnswerSource.Upstream;
                }

                if (answer == 0)
                {
                    continue;
                }

                _observer?.Answered(response.AsSpan(DnsTcpFraming.LengthPrefix, answer), started, overTcp: true, source, default, client.RemoteEndPoint, upstream);
                BinaryPrimitives.WriteUInt16BigEndian(response, (ushort)answer);
                await client.SendAsync(response.AsMemory(0, DnsTcpFraming.LengthPrefix + answer), SocketFlags.None, linked.Token);
            }
        }
        catch (OperationCanceledException)
        {
            reason = _stop.IsCancellationRequested ? "server stopping" : "idle timeout";
        }
        catch (SocketException e)
        {
            reason = e.SocketErrorCode.ToString();
        }
        finally
        {
            DnsServerLog.TcpClosed(_logger, client.RemoteEndPoint, reason);
            client.Dispose();
            ArrayPool<byte>.Shared.Return(query);
            ArrayPool<byte>.Shared.Return(response);
        }
    }

    /// <summary>The handler's answer, the forwarder's cached one, or <see cref="DnsForwarder.Pending"/>.</summary>
    private int Handle(ReadOnlySpan<byte> query, Span<byte> response, Socket client, out DnsAnswerSource source)
    {
        source = DnsAnswerSource.None;
        try
        {
            int length = _handler.Handle(query, response, overTcp: true, out source);
            return length == DnsQueryHandler.Forward
                ? _forwarder!.TryAnswer(query, response, overTcp: true, ((IPEndPoint)client.RemoteEndPoint!).Address, out source)
                : length;
        }
        catch (Exception e)
        {
            DnsServerLog.HandlerFailed(_logger, e);
            return 0;
        }
    }
}
