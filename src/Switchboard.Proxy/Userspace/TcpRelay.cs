using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// Copies one proxied TCP connection both ways until both sides have finished, on a <see cref="RelayLoop"/>'s thread:
/// each readable edge is received into the loop's buffer and sent on at once, so an idle connection holds no buffer
/// and a busy one none of its own either. Only what the other side cannot take yet is kept (in a pooled buffer), and
/// that direction stops reading until it is written, so a slow reader slows its writer as in the kernel. A read
/// shorter than the buffer, in a pass a readable edge started, drained the socket, which saves the receive that would
/// only say EAGAIN (see <see cref="OnEvents"/> for when that holds). A half-close is passed on (shutdown of the write
/// side), so request/response protocols that close their sending side work; an error on either side closes both.
/// </summary>
internal sealed unsafe class TcpRelay : RelayLoop.Item
{
    private const uint Events = SocketCalls.EpollIn | SocketCalls.EpollOut | SocketCalls.EpollRdHup;
    private const uint ReadEvents = SocketCalls.EpollIn | SocketCalls.EpollRdHup | SocketCalls.EpollHup | SocketCalls.EpollErr;
    private const uint EndEvents = SocketCalls.EpollRdHup | SocketCalls.EpollHup | SocketCalls.EpollErr;
    private const uint WriteEvents = SocketCalls.EpollOut | SocketCalls.EpollHup | SocketCalls.EpollErr;

    private readonly RelayLoop _loop;
    private readonly Socket _client;
    private readonly Socket _backend;
    private readonly Flow _toBackend;
    private readonly Flow _toClient;
    private readonly TaskCompletionSource<RelayedBytes> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _aborted;
    private CancellationTokenRegistration _aborting;
    private bool _closed;

    private TcpRelay(Socket client, Socket backend, CancellationToken aborted)
    {
        _loop = RelayLoop.Next();
        _aborted = aborted;
        _client = client;
        _backend = backend;
        int clientFd = (int)client.SafeHandle.DangerousGetHandle();
        int backendFd = (int)backend.SafeHandle.DangerousGetHandle();
        _toBackend = new Flow(clientFd, backendFd);
        _toClient = new Flow(backendFd, clientFd);
    }

    /// <summary>
    /// Relays between two connected sockets, which it owns from now on, until both sides have finished or
    /// <paramref name="aborted"/> is cancelled (the proxy stops, or the service port closes); then closes them and
    /// says how many bytes went each way.
    /// </summary>
    public static Task<RelayedBytes> RunAsync(Socket client, Socket backend, CancellationToken aborted = default)
    {
        client.Blocking = false;
        backend.Blocking = false;
        var relay = new TcpRelay(client, backend, aborted);
        relay._loop.Post(relay.Start);
        return relay._done.Task;
    }

    /// <summary>
    /// Connects <paramref name="socket"/> to <paramref name="endPoint"/> on a relay loop rather than through .NET's
    /// socket engine, so the socket is registered with no epoll but the relay's afterwards.
    /// </summary>
    public static Task ConnectAsync(Socket socket, EndPoint endPoint, CancellationToken cancellationToken)
    {
        socket.Blocking = false;
        var address = endPoint.Serialize();
        return new Connect(socket, address.Buffer[..address.Size].ToArray(), cancellationToken).Task;
    }

    /// <remarks>
    /// No wake-up can be lost, because every pass over a direction ends in one of two states whose way out the kernel
    /// announces with an edge handled here:
    /// <list type="bullet">
    /// <item>held: bytes are pending for <c>To</c> and the last send there said EAGAIN. That send set the socket's
    /// SOCK_NOSPACE, so the kernel raises EPOLLOUT on <c>To</c> once it has room, and that edge resumes the direction.</item>
    /// <item>drained: the last receive from <c>From</c> said EAGAIN, or was short in a pass started by an edge of
    /// <c>From</c> whose bits (its state when epoll_wait reported it) carried no end: the queue was empty then, any end
    /// that came before would have shown, and whatever comes after (bytes, the end, a reset) raises a new edge.</item>
    /// </list>
    /// A pass resumed by <c>To</c>'s EPOLLOUT knows nothing of the edges <c>From</c> raised while the direction was
    /// held, which the end may be among (its only edge, spent then), so it reads until EAGAIN or the end, never
    /// stopping at a short read.
    /// </remarks>
    public override void OnEvents(uint events, bool second)
    {
        var reading = second ? _toClient : _toBackend;
        var writing = second ? _toBackend : _toClient;
        bool ok = (events & ReadEvents) == 0 || Pump(reading, untilEmpty: (events & EndEvents) != 0);
        if (ok && (events & WriteEvents) != 0 && writing.Count > 0)
        {
            ok = Pump(writing, untilEmpty: true);
        }

        if (!ok || (_toBackend.Finished && _toClient.Finished))
        {
            Close();
        }
    }

    private void Start()
    {
        // Registered on the loop's thread, which reads it when closing; a token cancelled already queues the close.
        _aborting = _aborted.UnsafeRegister(static state => ((TcpRelay)state!).Abort(), this);
        // Registering reports what is ready already: a request that came during the connect is read at once.
        if (_loop.Watch(this, _toBackend.From, second: false, Events) != 0 || _loop.Watch(this, _toClient.From, second: true, Events) != 0)
        {
            Close();
        }
    }

    private void Abort() => _loop.Post(Close);

    /// <summary>Moves what <paramref name="flow"/> can move now; false when a socket failed and the relay must close.</summary>
    /// <param name="flow">The direction.</param>
    /// <param name="untilEmpty">Whether to read until EAGAIN or the end even after a short read (see <see cref="OnEvents"/>).</param>
    private bool Pump(Flow flow, bool untilEmpty)
    {
        byte* scratch = _loop.Scratch;
        while (true)
        {
            if (flow.Count > 0)
            {
                nint sent;
                fixed (byte* pending = flow.Pending)
                {
                    sent = SocketCalls.Send(flow.To, pending + flow.Offset, flow.Count);
                }

                if (sent < 0)
                {
                    if (sent == -SocketCalls.EIntr)
                    {
                        continue;
                    }

                    // EAGAIN: an EPOLLOUT edge comes when the other side has taken some.
                    return sent == -SocketCalls.EAgain;
                }

                flow.Offset += (int)sent;
                flow.Count -= (int)sent;
                flow.Relayed += sent;
                if (flow.Count > 0)
                {
                    continue;
                }

                ArrayPool<byte>.Shared.Return(flow.Pending!);
                flow.Pending = null;
            }

            if (flow.Finished)
            {
                return true;
            }

            if (flow.Ended)
            {
                // The peer may be gone already (ENOTCONN): the other direction's read or write says so.
                _ = SocketCalls.Shutdown(flow.To, SocketCalls.ShutWr);
                flow.Finished = true;
                return true;
            }

            nint read = SocketCalls.Receive(flow.From, scratch, RelayLoop.ScratchSize);
            if (read < 0)
            {
                if (read == -SocketCalls.EIntr)
                {
                    continue;
                }

                return read == -SocketCalls.EAgain;
            }

            if (read == 0)
            {
                flow.Ended = true;
                continue;
            }

            nint written = SocketCalls.Send(flow.To, scratch, (int)read);
            while (written == -SocketCalls.EIntr)
            {
                written = SocketCalls.Send(flow.To, scratch, (int)read);
            }

            if (written < 0 && written != -SocketCalls.EAgain)
            {
                return false;
            }

            flow.Relayed += Math.Max(written, 0);
            int left = (int)read - (int)Math.Max(written, 0);
            if (left > 0)
            {
                flow.Pending = ArrayPool<byte>.Shared.Rent(left);
                new ReadOnlySpan<byte>(scratch + read - left, left).CopyTo(flow.Pending);
                flow.Offset = 0;
                flow.Count = left;
                continue;
            }

            if (read < RelayLoop.ScratchSize && !untilEmpty)
            {
                return true;
            }
        }
    }

    private void Close()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _aborting.Unregister();
        _loop.Release(this);
        // Closing removes the sockets from the loop's epoll.
        _client.Dispose();
        _backend.Dispose();
        foreach (var flow in (Flow[])[_toBackend, _toClient])
        {
            if (flow.Pending is { } pending)
            {
                ArrayPool<byte>.Shared.Return(pending);
                flow.Pending = null;
            }
        }

        _done.TrySetResult(new RelayedBytes(_toBackend.Relayed, _toClient.Relayed));
    }

    /// <summary>One direction of the relay: from one socket to the other, and what the other has not taken yet.</summary>
    private sealed class Flow(int from, int to)
    {
        public int From { get; } = from;

        public int To { get; } = to;

        public byte[]? Pending { get; set; }

        public int Offset { get; set; }

        public int Count { get; set; }

        /// <summary>The bytes <see cref="To"/> has taken.</summary>
        public long Relayed { get; set; }

        /// <summary>The end of the stream was read from <see cref="From"/>.</summary>
        public bool Ended { get; set; }

        /// <summary>The end was passed on: <see cref="To"/> is shut down for writing.</summary>
        public bool Finished { get; set; }
    }

    /// <summary>A non-blocking connect(2) whose end (writable, or an error) a relay loop waits for.</summary>
    private sealed class Connect : RelayLoop.Item
    {
        private readonly RelayLoop _loop = RelayLoop.Next();
        private readonly Socket _socket;
        private readonly byte[] _address;
        private readonly CancellationToken _cancellationToken;
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private CancellationTokenRegistration _cancelling;
        private bool _finished;

        public Connect(Socket socket, byte[] address, CancellationToken cancellationToken)
        {
            _socket = socket;
            _address = address;
            _cancellationToken = cancellationToken;
            _loop.Post(Start);
        }

        public Task Task => _done.Task;

        public override void OnEvents(uint events, bool second)
        {
            int fd = Fd;
            _loop.Unwatch(fd);
            Finish(SocketCalls.PendingError(fd));
        }

        private int Fd => (int)_socket.SafeHandle.DangerousGetHandle();

        private void Start()
        {
            // Registered on the loop's thread, which reads it when finishing.
            _cancelling = _cancellationToken.UnsafeRegister(static state => ((Connect)state!).Cancel(), this);
            if (_cancellationToken.IsCancellationRequested)
            {
                // Cancelled before the start: the cancel queued meanwhile finds the connect finished.
                Finish(-1);
                return;
            }

            int error = SocketCalls.Connect(Fd, _address);
            if (error == SocketCalls.EInProgress)
            {
                error = _loop.Watch(this, Fd, second: false, SocketCalls.EpollOut);
                if (error == 0)
                {
                    return;
                }
            }

            Finish(error);
        }

        private void Cancel() => _loop.Post(() =>
        {
            if (_finished)
            {
                return;
            }

            if (Data != 0)
            {
                _loop.Unwatch(Fd);
            }

            Finish(-1);
        });

        /// <param name="error">0 when connected, an errno, or -1 when cancelled.</param>
        private void Finish(int error)
        {
            _finished = true;
            _loop.Release(this);
            _cancelling.Unregister();
            if (error == 0)
            {
                _done.TrySetResult();
            }
            else if (error < 0)
            {
                _done.TrySetCanceled(_cancellationToken);
            }
            else
            {
                _done.TrySetException(SocketCalls.Error(error));
            }
        }
    }
}
