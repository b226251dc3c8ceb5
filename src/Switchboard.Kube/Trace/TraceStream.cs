using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Switchboard.Kube.Trace;

/// <summary>
/// <c>GET /trace</c> on a component's operations port: its <see cref="ITraceRing"/> as NDJSON, one event per line
/// (docs/trace.md). <c>?last=N</c> starts N events back (default: everything kept, or nothing new when following);
/// <c>?follow=true</c> keeps the response open and tails the buffer; <c>?match=TEXT</c> (repeatable) sends only the events
/// whose line contains one of the texts (ASCII case-insensitive), for a reader that wants few of a busy source's events
/// (the web view: the queries about the Services its pages show, not a load's). A reader too slow for the events gets
/// a <c>{"type":"lost",…}</c> line saying how many it missed; the component never waits for it.
/// </summary>
/// <remarks>
/// Events are turned into JSON on a thread of the reader's own at the lowest priority (nice 19), not on the pool
/// threads the component serves from: on a busy machine the reader, not the component, is the one that slows down,
/// and it loses events (counted) instead of taking the CPU the component answers with.
/// </remarks>
public static partial class TraceStream
{
    public const string Path = "/trace";

    /// <summary>How often a follower looks for new events when it has caught up.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private const int Batch = 512;
    private const int ChunkBytes = 256 * 1024;
    private const int LowestPriority = 19;

    public static async Task ServeAsync(HttpContext http, ITraceRing ring, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(time);
        CancellationToken aborted = http.RequestAborted;
        IQueryCollection query = http.Request.Query;
        bool follow = query["follow"] is [{ } f] && (f == "1" || f.Equals("true", StringComparison.OrdinalIgnoreCase));
        long? last = null;
        if (query["last"] is [{ } text])
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            {
                await BadRequestAsync(http, $"last: \"{text}\" is not a non-negative integer");
                return;
            }

            last = n;
        }

        string[] match = [.. query["match"].OfType<string>().Where(m => m.Length > 0)];
        long head = ring.Head;
        long from = last is { } count ? Math.Max(0, head - count) : follow ? head : 0;
        http.Response.ContentType = "application/x-ndjson";
        await http.Response.StartAsync(aborted);

        // Two chunks in turn: the reader fills one while the other is sent.
        var full = Channel.CreateBounded<ArrayBufferWriter<byte>>(2);
        var empty = Channel.CreateBounded<ArrayBufferWriter<byte>>(2);
        empty.Writer.TryWrite(new ArrayBufferWriter<byte>(ChunkBytes));
        empty.Writer.TryWrite(new ArrayBufferWriter<byte>(ChunkBytes));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var reader = new Thread(() => Read(ring, from, head, follow, match, time, full.Writer, empty.Reader, stop.Token)) { IsBackground = true, Name = "trace reader" };
        reader.Start();
        try
        {
            await foreach (ArrayBufferWriter<byte> chunk in full.Reader.ReadAllAsync(aborted))
            {
                await http.Response.Body.WriteAsync(chunk.WrittenMemory, aborted);
                await http.Response.Body.FlushAsync(aborted);
                chunk.ResetWrittenCount();
                empty.Writer.TryWrite(chunk);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The reader went away.
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    /// <summary>The reader's thread: fills chunks from the ring until caught up (and, following, until the client leaves).</summary>
    private static void Read(
        ITraceRing ring, long from, long head, bool follow, string[] match, TimeProvider time, ChannelWriter<ArrayBufferWriter<byte>> full, ChannelReader<ArrayBufferWriter<byte>> empty,
        CancellationToken stop)
    {
        byte[][] needles = [.. match.Select(m => System.Text.Encoding.UTF8.GetBytes(m.ToLowerInvariant()))];
        var unfiltered = needles.Length > 0 ? new ArrayBufferWriter<byte>(ChunkBytes) : null;
        _ = SetPriority(0, GetThreadId(), LowestPriority); // best effort: a reader at normal priority still works
        try
        {
            while (!stop.IsCancellationRequested)
            {
                ArrayBufferWriter<byte> chunk = empty.ReadAsync(stop).AsTask().GetAwaiter().GetResult();
                int read = 0;
                int events;
                do
                {
                    events = ring.WriteJson(from, Batch, unfiltered ?? chunk, out from, out long lost);
                    if (unfiltered is not null)
                    {
                        CopyMatching(unfiltered.WrittenSpan, needles, chunk);
                        unfiltered.ResetWrittenCount();
                    }

                    read += events;
                    if (lost > 0)
                    {
                        WriteLost(chunk, lost, time.GetUtcNow());
                    }
                }
                while (events == Batch && chunk.WrittenCount < ChunkBytes / 2);

                bool done = !follow && (from >= head || (read == 0 && chunk.WrittenCount == 0));
                full.WriteAsync(chunk, stop).AsTask().GetAwaiter().GetResult();
                if (done)
                {
                    break;
                }

                if (follow && events < Batch)
                {
                    stop.WaitHandle.WaitOne(Poll);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            full.TryComplete();
        }
    }

    /// <summary>The lines of <paramref name="lines"/> that contain one of <paramref name="needles"/> (lower case; ASCII case-insensitive).</summary>
    private static void CopyMatching(ReadOnlySpan<byte> lines, byte[][] needles, IBufferWriter<byte> output)
    {
        while (lines.Length > 0)
        {
            int end = lines.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? lines : lines[..(end + 1)];
            lines = lines[line.Length..];
            foreach (byte[] needle in needles)
            {
                if (ContainsIgnoringCase(line, needle))
                {
                    output.Write(line);
                    break;
                }
            }
        }
    }

    private static bool ContainsIgnoringCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerNeedle)
    {
        for (int i = 0; i + lowerNeedle.Length <= text.Length; i++)
        {
            int j = 0;
            while (j < lowerNeedle.Length && (text[i + j] | (text[i + j] is >= (byte)'A' and <= (byte)'Z' ? 0x20 : 0)) == lowerNeedle[j])
            {
                j++;
            }

            if (j == lowerNeedle.Length)
            {
                return true;
            }
        }

        return false;
    }

    private static void WriteLost(IBufferWriter<byte> output, long count, DateTimeOffset now)
    {
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "lost");
            writer.WriteString("time", FormatTime(now));
            writer.WriteNumber("lost", count);
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>An event's time as the trace schema writes it: RFC 3339, UTC, microseconds.</summary>
    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static async Task BadRequestAsync(HttpContext http, string message)
    {
        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["message"] = message, ["reason"] = "BadRequest", ["code"] = 400,
            }),
            http.RequestAborted);
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
