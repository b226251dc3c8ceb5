using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Switchboard.Node.Runtime;

/// <summary>What a log read asks for (kubelet's PodLogOptions, less the container): null is "not asked".</summary>
internal sealed record LogReadOptions(bool Follow, bool Timestamps, long? TailLines, DateTimeOffset? Since, long? LimitBytes);

/// <summary>
/// Reads a container instance's CRI log back as kubelet's log reader does: the rotated files (gzipped or not), oldest
/// first, then the current one; partial (P) records joined into their line, stdout and stderr in file order; lines before
/// <c>since</c> left out, only the last <c>tailLines</c> lines, an RFC3339 timestamp with 9 fraction digits before each
/// line when asked, the output cut at <c>limitBytes</c>. Following, it keeps reading the current file as it grows and
/// moves to the new file when the writer rotates it, until the instance has ended and everything it wrote is sent.
/// </summary>
internal sealed class CriLogReader(string path, LogReadOptions options, Func<bool> ended, TimeSpan poll, TimeProvider time)
{
    private long _remaining = options.LimitBytes ?? long.MaxValue;
    private bool _lineStart = true;

    /// <summary>Writes the log to <paramref name="output"/>; returns when it is all written (following: once the instance has ended).</summary>
    public async Task CopyAsync(Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var tail = options.TailLines is { } lines ? new Queue<byte[]>() : null;
        var line = new ArrayBufferWriter<byte>();
        // Lines already in the files: straight out, or through the tail window.
        async Task<bool> EmitAsync(ReadOnlyMemory<byte> record)
        {
            if (!Render(record.Span, line, out bool complete) || !complete)
            {
                return true;
            }

            return await FinishLineAsync(tail, line, output, cancellationToken);
        }

        foreach (string rotated in RotatingLogFile.Rotated(path))
        {
            await using var file = OpenRotated(rotated);
            if (file is null)
            {
                continue;
            }

            var reader = new LineReader(file);
            while (await reader.NextAsync(cancellationToken) is { } record)
            {
                if (!await EmitAsync(record))
                {
                    return;
                }
            }
        }

        var current = OpenCurrent(path);
        try
        {
            var reader = current is null ? null : new LineReader(current);
            while (reader is not null && await reader.NextAsync(cancellationToken) is { } record)
            {
                if (!await EmitAsync(record))
                {
                    return;
                }
            }

            // A line still partial at the end counts as the last line.
            if (line.WrittenCount > 0 && !await FinishLineAsync(tail, line, output, cancellationToken))
            {
                return;
            }

            foreach (byte[] kept in tail ?? [])
            {
                if (!await WriteAsync(output, kept, cancellationToken))
                {
                    return;
                }
            }

            await output.FlushAsync(cancellationToken);
            if (options.Follow)
            {
                await FollowAsync(current, reader, output, cancellationToken);
            }
        }
        finally
        {
            if (current is not null)
            {
                await current.DisposeAsync();
            }
        }
    }

    private async Task FollowAsync(FileStream? current, LineReader? reader, Stream output, CancellationToken cancellationToken)
    {
        string? opened = current is null ? null : Target(current);
        bool endSeen = false;
        var line = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                if (reader is not null && await reader.NextAsync(cancellationToken) is { } record)
                {
                    if (Render(record.Span, line, out _) && line.WrittenCount > 0)
                    {
                        bool room = await WriteAsync(output, line.WrittenMemory, cancellationToken);
                        line.ResetWrittenCount();
                        if (!room)
                        {
                            return;
                        }
                    }

                    continue;
                }

                await output.FlushAsync(cancellationToken);
                if (current is null || Target(current) != opened)
                {
                    // Not there yet, or rotated: what the old file held is all read; the new one starts at its beginning.
                    var next = OpenCurrent(path);
                    if (next is not null)
                    {
                        if (current is not null)
                        {
                            await current.DisposeAsync();
                        }

                        current = next;
                        opened = Target(next);
                        reader = new LineReader(next);
                        continue;
                    }
                }

                if (endSeen)
                {
                    return;
                }

                // Once the instance has ended, one more pass reads what it wrote last.
                endSeen = ended();
                if (!endSeen)
                {
                    await Task.Delay(poll, time, cancellationToken);
                }
            }
        }
        finally
        {
            if (current is not null)
            {
                await current.DisposeAsync();
            }
        }
    }

    /// <summary>Adds one record to <paramref name="line"/> (timestamp first at a line's start); false when it is left out (before since, or not a record).</summary>
    private bool Render(ReadOnlySpan<byte> record, ArrayBufferWriter<byte> line, out bool complete)
    {
        complete = false;
        int first = record.IndexOf((byte)' ');
        int second = first < 0 ? -1 : record[(first + 1)..].IndexOf((byte)' ') + first + 1;
        if (first < 0 || second <= first || record.Length < second + 3 || record[second + 2] != (byte)' '
            || !TryParseTimestamp(record[..first], out var stamp))
        {
            return false;
        }

        bool full = record[second + 1] == (byte)'F';
        if (options.Since is { } since && stamp < since)
        {
            return false;
        }

        if (_lineStart && options.Timestamps)
        {
            string prefix = stamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "00Z ";
            Encoding.ASCII.GetBytes(prefix, line);
        }

        line.Write(record[(second + 3)..]);
        if (full)
        {
            line.Write("\n"u8);
        }

        _lineStart = full;
        complete = full;
        return true;
    }

    private async Task<bool> FinishLineAsync(Queue<byte[]>? tail, ArrayBufferWriter<byte> line, Stream output, CancellationToken cancellationToken)
    {
        bool room = true;
        if (tail is null)
        {
            room = await WriteAsync(output, line.WrittenMemory, cancellationToken);
        }
        else if (options.TailLines > 0)
        {
            tail.Enqueue(line.WrittenSpan.ToArray());
            if (tail.Count > options.TailLines)
            {
                tail.Dequeue();
            }
        }

        line.ResetWrittenCount();
        return room;
    }

    /// <summary>Writes within limitBytes; false once the limit is reached.</summary>
    private async Task<bool> WriteAsync(Stream output, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        int count = (int)Math.Min(bytes.Length, _remaining);
        await output.WriteAsync(bytes[..count], cancellationToken);
        _remaining -= count;
        return _remaining > 0;
    }

    /// <summary>A CRI timestamp (RFC3339Nano: up to 9 fraction digits, which .NET parses to 7).</summary>
    private static bool TryParseTimestamp(ReadOnlySpan<byte> text, out DateTimeOffset stamp)
    {
        Span<char> chars = stackalloc char[40];
        if (text.Length > chars.Length)
        {
            stamp = default;
            return false;
        }

        int length = Encoding.ASCII.GetChars(text, chars);
        var value = chars[..length];
        int dot = value.IndexOf('.');
        if (dot >= 0)
        {
            int end = dot + 1;
            while (end < value.Length && char.IsAsciiDigit(value[end]))
            {
                end++;
            }

            if (end - dot - 1 > 7)
            {
                // Drop the digits below 100 ns.
                value[end..].CopyTo(value[(dot + 8)..]);
                value = value[..(value.Length - (end - dot - 8))];
            }
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out stamp);
    }

    private static Stream? OpenRotated(string file)
    {
        try
        {
            var stream = File.OpenRead(file);
            return file.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(stream, CompressionMode.Decompress) : stream;
        }
        catch (FileNotFoundException)
        {
            // Compressed or removed by a rotation since it was listed.
            return null;
        }
    }

    private static FileStream? OpenCurrent(string file)
    {
        try
        {
            return new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Where the open file is now: a rotation renames it, so a changed target means the writer moved on.</summary>
    private static string? Target(FileStream file) =>
        new FileInfo($"/proc/self/fd/{file.SafeFileHandle.DangerousGetHandle().ToInt64().ToString(CultureInfo.InvariantCulture)}").LinkTarget;

    /// <summary>Complete lines of a file that may still grow: a line without its newline yet waits for the rest.</summary>
    private sealed class LineReader(Stream stream)
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        /// <summary>The next complete line (without its newline; valid until the next call), or null when none is there yet.</summary>
        public async ValueTask<ReadOnlyMemory<byte>?> NextAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                int newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var line = _buffer.AsMemory(_start, newline);
                    _start += newline + 1;
                    return line;
                }

                if (_start > 0)
                {
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }

                if (_end == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                int read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
                if (read == 0)
                {
                    return null;
                }

                _end += read;
            }
        }
    }
}
