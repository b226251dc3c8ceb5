using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Switchboard.Node.Runtime;

/// <summary>
/// The attach socket between a container's monitor and the node (what conmon's attach socket is to CRI-O): a unix
/// socket in the instance directory carrying frames of one channel byte (the remote-command channels: 0 stdin, 1 stdout,
/// 2 stderr, 4 resize as width and height, 255 stdin closed), a 32-bit big-endian length and the payload.
/// </summary>
internal static partial class AttachFrames
{
    public const string SocketName = "attach.sock";
    public const int HeaderSize = 5;

    /// <summary>Longest path a sockaddr_un holds (108 bytes with its NUL).</summary>
    private const int MaxSocketPath = 107;

    private const int OPath = 0x200000;
    private const int ODirectory = 0x10000;
    private const int OCloExec = 0x80000;

    /// <summary>Writes one frame's header for a payload of <paramref name="length"/> bytes.</summary>
    public static void WriteHeader(Span<byte> header, byte channel, int length)
    {
        header[0] = channel;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], length);
    }

    /// <summary>A whole frame.</summary>
    public static byte[] Frame(byte channel, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[HeaderSize + payload.Length];
        WriteHeader(frame, channel, payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }

    /// <summary>Reads the next frame: its channel, and its payload into the memory <paramref name="payloadBuffer"/> gives for its length; null at the end of the stream.</summary>
    public static async Task<(byte Channel, int Length)?> ReadAsync(Stream stream, Memory<byte> header, Func<int, Memory<byte>> payloadBuffer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(payloadBuffer);
        if (await stream.ReadAtLeastAsync(header[..HeaderSize], HeaderSize, throwOnEndOfStream: false, cancellationToken) < HeaderSize)
        {
            return null;
        }

        byte channel = header.Span[0];
        int length = BinaryPrimitives.ReadInt32BigEndian(header.Span[1..HeaderSize]);
        if (length is < 0 or > 16 * 1024 * 1024)
        {
            throw new IOException($"attach frame of {length} bytes");
        }

        await stream.ReadExactlyAsync(payloadBuffer(length)[..length], cancellationToken);
        return (channel, length);
    }

    /// <summary>Runs <paramref name="use"/> with a path of the attach socket in <paramref name="directory"/> that fits a sockaddr_un.</summary>
    public static T WithSocketPath<T>(string directory, Func<UnixDomainSocketEndPoint, T> use) => WithSocketPath(directory, SocketName, use);

    /// <summary>
    /// Runs <paramref name="use"/> with a path of socket <paramref name="name"/> in <paramref name="directory"/> that fits
    /// a sockaddr_un: the path itself when short enough, else <c>/proc/self/fd/N/NAME</c> through a handle on the directory.
    /// </summary>
    public static T WithSocketPath<T>(string directory, string name, Func<UnixDomainSocketEndPoint, T> use)
    {
        ArgumentNullException.ThrowIfNull(use);
        string path = Path.Combine(directory, name);
        if (System.Text.Encoding.UTF8.GetByteCount(path) <= MaxSocketPath)
        {
            return use(new UnixDomainSocketEndPoint(path));
        }

        using var handle = OpenDirectory(directory, OPath | ODirectory | OCloExec);
        if (handle.IsInvalid)
        {
            throw new IOException($"opening {directory} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return use(new UnixDomainSocketEndPoint($"/proc/self/fd/{handle.DangerousGetHandle()}/{name}"));
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial SafeFileHandle OpenDirectory(string path, int flags);
}
