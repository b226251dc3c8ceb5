using System.Buffers;
using System.Globalization;
using System.Text;

namespace Switchboard.Node.Runtime;

/// <summary>
/// Writes a container's output in the CRI log format kubelet reads: <c>&lt;RFC3339Nano&gt; &lt;stream&gt; &lt;F|P&gt; &lt;line&gt;</c>,
/// one record per line; a line longer than 16 KiB, or output ending without a newline, is split into partial (P) records.
/// </summary>
internal sealed class CriLogWriter(RotatingLogFile file, TimeProvider time) : IDisposable
{
    public const int MaxLine = 16 * 1024;
    private readonly Lock _lock = new();

    /// <summary>Copies <paramref name="source"/> to the log as stream <paramref name="name"/> until it ends.</summary>
    public Task CopyAsync(Stream source, string name)
    {
        ArgumentNullException.ThrowIfNull(source);
        return CopyAsync(buffer => source.ReadAsync(buffer), name);
    }

    /// <summary>Copies what <paramref name="read"/> returns (0 at the end) to the log as stream <paramref name="name"/>.</summary>
    public async Task CopyAsync(Func<Memory<byte>, ValueTask<int>> read, string name)
    {
        ArgumentNullException.ThrowIfNull(read);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxLine);
        int filled = 0;
        try
        {
            while (true)
            {
                int count = await read(buffer.AsMemory(filled, MaxLine - filled));
                if (count == 0)
                {
                    if (filled > 0)
                    {
                        Write(name, "P", buffer.AsSpan(0, filled));
                    }

                    return;
                }

                filled += count;
                int start = 0;
                int newline;
                while ((newline = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n')) >= 0)
                {
                    Write(name, "F", buffer.AsSpan(start, newline));
                    start += newline + 1;
                }

                if (start == 0 && filled == MaxLine)
                {
                    Write(name, "P", buffer.AsSpan(0, filled));
                    filled = 0;
                }
                else if (start > 0)
                {
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => file.Dispose();

    /// <summary>Go's RFC3339Nano: UTC, fraction with trailing zeros trimmed (none if zero), 'Z'.</summary>
    public static string Timestamp(DateTimeOffset time)
    {
        string fraction = time.UtcDateTime.ToString("fffffff", CultureInfo.InvariantCulture).TrimEnd('0');
        return time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + (fraction.Length > 0 ? "." + fraction : "") + "Z";
    }

    private void Write(string stream, string tag, ReadOnlySpan<byte> content)
    {
        byte[] prefix = Encoding.ASCII.GetBytes($"{Timestamp(time.GetUtcNow())} {stream} {tag} ");
        lock (_lock)
        {
            file.Append(prefix, content);
        }
    }
}
