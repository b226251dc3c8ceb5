using System.Buffers;

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
    /// Writes up to <paramref name="max"/> events from sequence <paramref name="from"/> on, oldest first, one JSON object and a
    /// newline each (docs/trace.md), into <paramref name="output"/>; returns how many. <paramref name="next"/>: where to read next
    /// time; <paramref name="lost"/>: events overwritten before this read, skipped.
    /// </summary>
    int WriteJson(long from, int max, IBufferWriter<byte> output, out long next, out long lost);
}
