using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Switchboard.Kube.Networking;

/// <summary>
/// Makes sockets inside a network namespace, such as the node's, where pod addresses are routed (Switchboard itself
/// runs in the host's). A dedicated thread enters the namespace once with setns(2) and creates every socket; a socket
/// stays in the namespace it was made in, so it is then used from any thread: to dial pods (probes) or to listen
/// for them (the cluster DNS).
/// </summary>
public sealed partial class NetnsDialer : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private readonly BlockingCollection<(AddressFamily Family, SocketType Type, ProtocolType Protocol, TaskCompletionSource<Socket> Result)> _requests = new();
    private readonly Thread _thread;

    public NetnsDialer(string netnsName)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() => Serve(netnsName, entered)) { IsBackground = true, Name = "netns " + netnsName };
        _thread.Start();
        entered.Task.GetAwaiter().GetResult();
    }

    /// <summary>Waits until the namespace <paramref name="netnsName"/> exists (another component makes it).</summary>
    public static async Task WaitForNamespaceAsync(string netnsName, TimeSpan poll, TimeProvider time, CancellationToken cancellationToken)
    {
        while (!Exists(netnsName))
        {
            await Task.Delay(poll, time, cancellationToken);
        }
    }

    /// <summary>
    /// Whether the namespace <paramref name="netnsName"/> can be entered. `ip netns add` creates /run/netns/NAME first and
    /// bind-mounts the namespace onto it after: in between, the file is an empty regular file that setns refuses, so
    /// it is the mount that says the namespace exists, not the file.
    /// </summary>
    public static bool Exists(string netnsName)
    {
        string path = Path.Combine("/run/netns", netnsName);
        return File.Exists(path) && File.ReadLines("/proc/self/mountinfo").Any(line => MountPoint(line) == path);
    }

    /// <summary>The fifth field of a /proc/self/mountinfo line.</summary>
    private static string MountPoint(string line)
    {
        var fields = line.Split(' ', 6);
        return fields.Length > 4 ? fields[4] : "";
    }

    public Task<Socket> CreateAsync(AddressFamily family, SocketType type, ProtocolType protocol)
    {
        var result = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.Add((family, type, protocol, result));
        return result.Task;
    }

    /// <summary>A TCP connection to <paramref name="endPoint"/> from inside the namespace.</summary>
    public async Task<Socket> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = await CreateAsync(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(endPoint, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An HttpClient whose connections start in the namespace (probes, tests).</summary>
    public HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectCallback = async (context, ct) => new NetworkStream(await ConnectAsync(context.DnsEndPoint is { } dns && IPAddress.TryParse(dns.Host, out var ip)
            ? new IPEndPoint(ip, dns.Port) : context.DnsEndPoint, ct), ownsSocket: true),
    });

    public void Dispose()
    {
        _requests.CompleteAdding();
        _thread.Join();
        _requests.Dispose();
    }

    private void Serve(string netnsName, TaskCompletionSource entered)
    {
        try
        {
            using var handle = File.OpenHandle("/run/netns/" + netnsName);
            if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
            {
                throw new IOException($"setns into {netnsName} failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        catch (Exception e)
        {
            entered.SetException(e);
            return;
        }

        entered.SetResult();
        foreach (var request in _requests.GetConsumingEnumerable())
        {
            try
            {
                request.Result.SetResult(new Socket(request.Family, request.Type, request.Protocol));
            }
            catch (SocketException e)
            {
                request.Result.SetException(e);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
