using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Switchboard.Kube.Trace;

/// <summary>
/// <c>GET /trace</c> on a component's operations port: its <see cref="ITraceRing"/> as NDJSON, one event per line
/// (docs/trace.md). <c>?last=N</c> starts N events back (default: everything kept, or nothing new when following);
/// <c>?follow=true</c> keeps the response open and tails the buffer; <c>?service=NAMESPACE/NAME</c> (repeatable) sends only
/// the events about those Services (<see cref="TraceSelection"/>), matched in the ring before anything is encoded, for a
/// reader that wants few of a busy source's events (the web view: the queries about the Services its pages show, not a
/// load's). A reader too slow for the events gets a <c>{"type":"lost",…}</c> line saying how many it missed; the
/// component never waits for it.
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

    /// <summary>
    /// How often a reader with a selection looks once the ring outran a poll: looking at an event it does not select is
    /// a comparison, so it can keep up with a load that fills the ring in less than <see cref="Poll"/> (4,096 DNS
    /// answers in 58 ms at 70,000 a second) instead of losing the queries it asked about among the others.
    /// </summary>
    private static readonly TimeSpan SelectivePoll = TimeSpan.FromMilliseconds(10);

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

        if (!TraceSelection.TryParse(query["service"].OfType<string>(), out TraceSelection? about, out string? error))
        {
            await BadRequestAsync(http, error!);
            return;
        }

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
        var reader = new Thread(() => Read(ring, from, head, follow, about, time, full.Writer, empty.Reader, stop.Token)) { IsBackground = true, Name = "trace reader" };
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
        ITraceRing ring, long from, long head, bool follow, TraceSelection? about, TimeProvider time, ChannelWriter<ArrayBufferWriter<byte>> full, ChannelReader<ArrayBufferWriter<byte>> empty,
        CancellationToken stop)
    {
        _ = SetPriority(0, GetThreadId(), LowestPriority); // best effort: a reader at normal priority still works
        try
        {
            ArrayBufferWriter<byte>? chunk = null;
            bool outran = false; // once a load outran a poll, a selective reader keeps looking often
            while (!stop.IsCancellationRequested)
            {
                chunk ??= empty.ReadAsync(stop).AsTask().GetAwaiter().GetResult();
                long read = 0;
                long looked;
                do
                {
                    // Looked at: every event of the batch, written or not selected (and those lost).
                    long start = from;
                    ring.WriteJson(from, Batch, about, chunk, out from, out long lost);
                    looked = from - start;
                    read += looked;
                    if (lost > 0)
                    {
                        outran = true;
                        WriteLost(chunk, lost, time.GetUtcNow());
                    }
                }
                while (looked >= Batch && chunk.WrittenCount < ChunkBytes / 2);

                bool done = !follow && (from >= head || (read == 0 && chunk.WrittenCount == 0));
                if (chunk.WrittenCount > 0 || !follow)
                {
                    // Following, a chunk with nothing selected is kept for the next poll rather than sent empty.
                    full.WriteAsync(chunk, stop).AsTask().GetAwaiter().GetResult();
                    chunk = null;
                }

                if (done)
                {
                    break;
                }

                if (follow && looked < Batch)
                {
                    stop.WaitHandle.WaitOne(outran && about is not null ? SelectivePoll : Poll);
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
            new JsonObject
            {
                ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["message"] = message, ["reason"] = "BadRequest", ["code"] = 400,
            }.ToJsonString(),
            http.RequestAborted);
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
