namespace Switchboard.Node.Server.Spdy;

/// <summary>The SPDY/3 frame types kubectl's port-forward (moby/spdystream) sends or expects; DATA is 0 here, it has no type field.</summary>
internal enum SpdyFrameType : ushort
{
    Data = 0,
    SynStream = 1,
    SynReply = 2,
    RstStream = 3,
    Settings = 4,
    Ping = 6,
    GoAway = 7,
    Headers = 8,
    WindowUpdate = 9,
}

/// <summary>RST_STREAM status codes (SPDY/3 §2.6.3) port-forward sends: the server for bad or unpaired streams, kubectl to drop a finished one.</summary>
internal enum SpdyRstStatus : uint
{
    ProtocolError = 1,
    RefusedStream = 3,
    Cancel = 5,
}

/// <summary>
/// One SPDY/3 frame as read off the wire, flattened into one shape so the session switches on <see cref="Type"/>:
/// <see cref="Value"/> is the RST_STREAM or GOAWAY status, the PING id or the WINDOW_UPDATE delta;
/// <see cref="Headers"/> the decompressed header block of SYN_STREAM, SYN_REPLY and HEADERS; <see cref="Data"/> a DATA
/// payload in an array rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/> (its first <see cref="Length"/>
/// bytes), which whoever consumes it returns.
/// </summary>
internal sealed record SpdyFrame(SpdyFrameType Type, byte Flags, uint StreamId, uint Value = 0, IReadOnlyDictionary<string, string>? Headers = null, byte[]? Data = null, int Length = 0)
{
    /// <summary>FLAG_FIN: the sender's last frame on this stream.</summary>
    public const byte FlagFin = 0x01;

    public bool Fin => (Flags & FlagFin) != 0;

    public ReadOnlySpan<byte> Payload => Data.AsSpan(0, Length);
}
