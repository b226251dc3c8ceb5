using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Streaming;

/// <summary>
/// attach's target: the container's main process, reached through its monitor's attach socket (the monitor holds the
/// container's stdin and terminal, and outlives this agent). Output frames go to the session's stdout and stderr; the
/// client's stdin, resizes and stdin-close go to the monitor, which applies stdinOnce.
/// </summary>
internal sealed class ContainerAttach : IStreamTarget
{
    private readonly NetworkStream _stream;
    private readonly StreamOptions _options;
    private readonly SemaphoreSlim _write = new(1, 1);
    private bool _inputClosed;

    private ContainerAttach(NetworkStream stream, StreamOptions options)
    {
        _stream = stream;
        _options = options;
    }

    /// <summary>Connects to the monitor of the instance in <paramref name="instanceDirectory"/>.</summary>
    public static ContainerAttach Connect(string instanceDirectory, StreamOptions options)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            AttachFrames.WithSocketPath(instanceDirectory, endPoint =>
            {
                socket.Connect(endPoint);
                return 0;
            });
            return new ContainerAttach(new NetworkStream(socket, ownsSocket: true), options);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public ValueTask WriteInputAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        SendAsync(0, data, cancellationToken);

    public async ValueTask CloseInputAsync(CancellationToken cancellationToken)
    {
        _inputClosed = true;
        await SendAsync(255, ReadOnlyMemory<byte>.Empty, cancellationToken);
    }

    public ValueTask ResizeAsync(ushort width, ushort height, CancellationToken cancellationToken)
    {
        byte[] size = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(size, width);
        BinaryPrimitives.WriteUInt16BigEndian(size.AsSpan(2), height);
        return SendAsync(4, size, cancellationToken);
    }

    /// <summary>Copies the container's output until its monitor closes the socket (the container ended); an attach reports success.</summary>
    public async Task<int> RunAsync(ChannelSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        byte[] header = new byte[AttachFrames.HeaderSize];
        byte[] payload = ArrayPool<byte>.Shared.Rent(64 * 1024 + 1);
        try
        {
            while (await AttachFrames.ReadAsync(_stream, header, Room, cancellationToken) is { } frame)
            {
                bool wanted = frame.Channel switch
                {
                    ChannelSession.StdoutChannel => _options.Stdout,
                    ChannelSession.StderrChannel => _options.Stderr,
                    _ => false,
                };
                if (wanted)
                {
                    await session.SendAsync(frame.Channel, payload.AsMemory(0, frame.Length + 1), cancellationToken);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }

        return 0;

        // The payload lands after one byte of room for the channel, so the session sends it without a copy.
        Memory<byte> Room(int length)
        {
            if (length + 1 > payload.Length)
            {
                ArrayPool<byte>.Shared.Return(payload);
                payload = ArrayPool<byte>.Shared.Rent(length + 1);
            }

            return payload.AsMemory(1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_options.Stdin && !_inputClosed)
        {
            // The session ended without closing stdin (the client left): for stdinOnce that ends the container's stdin too.
            try
            {
                _inputClosed = true;
                await SendAsync(255, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The monitor is gone with its container.
            }
        }

        await _stream.DisposeAsync();
        _write.Dispose();
    }

    private async ValueTask SendAsync(byte channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        byte[] header = new byte[AttachFrames.HeaderSize];
        AttachFrames.WriteHeader(header, channel, payload.Length);
        await _write.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(header, cancellationToken);
            await _stream.WriteAsync(payload, cancellationToken);
        }
        finally
        {
            _write.Release();
        }
    }
}
