using System.Buffers;
using System.Text.Json;

namespace Switchboard.Kube.Trace;

/// <summary>
/// A component's bounded buffer of recent trace events (DNS answers, proxied connections), numbered in order, as
/// <see cref="TraceStream"/> serves it: readers ask from a sequence number on and are told what the buffer no longer holds.
/// </summary>
public interface ITraceRing
{
    /// <summary>The sequence number the next event gets: events so far.</summary>
    long Head { get; }

    /// <summary>
    /// Looks at up to <paramref name="max"/> events from sequence <paramref name="from"/> on, oldest first, and writes those
    /// <paramref name="about"/> selects (all when null), one JSON object and a newline each (docs/trace.md), into
    /// <paramref name="output"/>; returns how many it wrote. An event not selected is matched on its own fields and never
    /// decoded. <paramref name="next"/>: where to read next time; <paramref name="lost"/>: events overwritten before this
    /// read, skipped.
    /// </summary>
    int WriteJson(long from, int max, TraceSelection? about, IBufferWriter<byte> output, out long next, out long lost);
}

/// <summary>One trace event as it goes on the wire: a JSON object of docs/trace.md's schema.</summary>
public interface ITraceEvent
{
    void WriteTo(Utf8JsonWriter writer);
}

/// <summary>NDJSON writing shared by every <see cref="ITraceRing"/>.</summary>
public static class TraceJson
{
    /// <summary>Writes each event as one JSON object and a newline; returns how many.</summary>
    public static int WriteLines<T>(IReadOnlyList<T> events, IBufferWriter<byte> output)
        where T : ITraceEvent
    {
        using var writer = new Utf8JsonWriter(output);
        foreach (T e in events)
        {
            e.WriteTo(writer);
            writer.Flush();
            output.Write("\n"u8);
            writer.Reset(output);
        }

        return events.Count;
    }
}
