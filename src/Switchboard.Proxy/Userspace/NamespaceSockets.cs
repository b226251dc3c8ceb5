using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// Opens sockets in the node's network namespace while the proxy itself runs in the host's. A socket belongs to the
/// namespace of the thread that called socket(2), so one dedicated thread enters the namespace with setns(2) and
/// opens every socket; the sockets are then bound, connected and used from any thread.
/// </summary>
internal sealed partial class NamespaceSockets : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;

    private NamespaceSockets(string networkNamespace)
    {
        Namespace = networkNamespace;
        _thread = new Thread(Serve) { IsBackground = true, Name = "proxy netns " + networkNamespace };
    }

    public string Namespace { get; }

    /// <summary>Starts the thread and returns once it is inside <paramref name="networkNamespace"/> (or failed to enter it).</summary>
    public static async Task<NamespaceSockets> OpenAsync(string networkNamespace)
    {
        var sockets = new NamespaceSockets(networkNamespace);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sockets._thread.Start(entered);
        try
        {
            await entered.Task;
            return sockets;
        }
        catch
        {
            sockets.Dispose();
            throw;
        }
    }

    /// <summary>A new TCP or UDP IPv4 socket in the namespace.</summary>
    public Task<Socket> CreateAsync(ProtocolType protocol)
    {
        var request = new Request(protocol);
        if (!_requests.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(NamespaceSockets));
        }

        return request.Task;
    }

    public void Dispose()
    {
        _requests.Writer.TryComplete();
        if (_thread.IsAlive)
        {
            _thread.Join();
        }
    }

    private void Serve(object? state)
    {
        var entered = (TaskCompletionSource)state!;
        try
        {
            using var handle = File.OpenHandle(Path.Combine("/var/run/netns", Namespace));
            if (SetNs(handle.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
            {
                throw new IOException($"setns into the network namespace {Namespace} failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        catch (Exception e)
        {
            _requests.Writer.TryComplete();
            entered.SetException(e);
            return;
        }

        entered.SetResult();
        var reader = _requests.Reader;
        // The thread blocks between requests: it must never run anything but socket(2), so no async continuation may
        // land on it and it stays in the namespace for its whole life.
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var request))
            {
                request.Open();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    private sealed class Request(ProtocolType protocol) : TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public void Open()
        {
            try
            {
                var type = protocol == ProtocolType.Udp ? SocketType.Dgram : SocketType.Stream;
                SetResult(new Socket(AddressFamily.InterNetwork, type, protocol));
            }
            catch (SocketException e)
            {
                SetException(e);
            }
        }
    }
}
