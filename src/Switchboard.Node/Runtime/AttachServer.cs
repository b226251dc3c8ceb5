using System.Net.Sockets;
using System.Threading.Channels;

namespace Switchboard.Node.Runtime;

/// <summary>
/// The monitor's side of attach: listens on the instance's <see cref="AttachFrames"/> socket, copies the container's
/// output to every attached client (output while nobody is attached goes only to the log), and takes the clients'
/// stdin, resizes and stdin-closes to the container. A client too slow for the output is dropped rather than slowing
/// the container. With <c>stdinOnce</c> the container's stdin closes when the first client that closes its stdin does.
/// </summary>
internal sealed class AttachServer : IAsyncDisposable
{
    /// <summary>Output chunks queued for one client before it is dropped.</summary>
    private const int ClientBacklog = 1024;

    private readonly Socket _listener;
    private readonly IAttachedProgram _program;
    private readonly bool _stdinOnce;
    private readonly Lock _lock = new();
    private readonly List<Channel<byte[]>> _clients = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _writers = [];
    private bool _stdinClosed;

    private AttachServer(Socket listener, IAttachedProgram program, bool stdinOnce)
    {
        _listener = listener;
        _program = program;
        _stdinOnce = stdinOnce;
        _ = AcceptAsync();
    }

    /// <summary>Listens on the attach socket of <paramref name="instanceDirectory"/>.</summary>
    public static AttachServer Start(string instanceDirectory, IAttachedProgram program, bool stdinOnce)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            AttachFrames.WithSocketPath(instanceDirectory, endPoint =>
            {
                listener.Bind(endPoint);
                return 0;
            });
            listener.Listen();
            return new AttachServer(listener, program, stdinOnce);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Hands a chunk of output on <paramref name="channel"/> to the attached clients.</summary>
    public void Broadcast(byte channel, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        lock (_lock)
        {
            if (_clients.Count == 0)
            {
                return;
            }

            byte[] frame = AttachFrames.Frame(channel, data);
            foreach (var client in _clients.ToList())
            {
                if (!client.Writer.TryWrite(frame))
                {
                    client.Writer.TryComplete();
                    _clients.Remove(client);
                }
            }
        }
    }

    /// <summary>Stops listening; what clients have queued is still sent (for a moment) before their connections close.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] writers;
        lock (_lock)
        {
            foreach (var client in _clients)
            {
                client.Writer.TryComplete();
            }

            _clients.Clear();
            writers = [.. _writers];
        }

        await Task.WhenAny(Task.WhenAll(writers), Task.Delay(TimeSpan.FromSeconds(1)));
        await _stop.CancelAsync();
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                _ = ServeAsync(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The monitor is ending.
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var output = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(ClientBacklog) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        lock (_lock)
        {
            _clients.Add(output);
        }

        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var writer = WriteAsync(stream, output.Reader);
        lock (_lock)
        {
            _writers.Add(writer);
        }

        try
        {
            byte[] header = new byte[AttachFrames.HeaderSize];
            byte[] payload = new byte[64 * 1024];
            while (await AttachFrames.ReadAsync(stream, header, n => n <= payload.Length ? payload : payload = new byte[n], _stop.Token) is { } frame)
            {
                await HandleAsync(frame.Channel, payload.AsMemory(0, frame.Length));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            lock (_lock)
            {
                _clients.Remove(output);
            }

            output.Writer.TryComplete();
            await writer;
            lock (_lock)
            {
                _writers.Remove(writer);
            }
        }
    }

    private async Task HandleAsync(byte channel, ReadOnlyMemory<byte> payload)
    {
        switch (channel)
        {
            case 0 when !_stdinClosed:
                await _program.WriteInputAsync(payload);
                break;
            case 4 when payload.Length == 4:
                _program.Resize((ushort)(payload.Span[0] << 8 | payload.Span[1]), (ushort)(payload.Span[2] << 8 | payload.Span[3]));
                break;
            case 255 when _stdinOnce && !_stdinClosed:
                _stdinClosed = true;
                await _program.CloseInputAsync();
                break;
            default:
                break;
        }
    }

    private static async Task WriteAsync(Stream stream, ChannelReader<byte[]> frames)
    {
        try
        {
            await foreach (byte[] frame in frames.ReadAllAsync())
            {
                await stream.WriteAsync(frame);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client went away; its reader sees the same.
        }
        finally
        {
            // Output is over for this client (the container ended, or the client was too slow): its connection closes.
            await stream.DisposeAsync();
        }
    }
}

/// <summary>The container's end of attach, as the monitor holds it: its stdin (a pipe or its terminal) and its terminal's size.</summary>
internal interface IAttachedProgram
{
    ValueTask WriteInputAsync(ReadOnlyMemory<byte> data);

    ValueTask CloseInputAsync();

    void Resize(ushort width, ushort height);
}
