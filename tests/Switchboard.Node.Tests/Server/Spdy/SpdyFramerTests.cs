using Switchboard.Node.Server.Spdy;

namespace Switchboard.Node.Tests.Server.Spdy;

/// <summary>
/// The SPDY/3 framer against byte vectors: header blocks compressed by zlib itself (level 9 with the SPDY dictionary,
/// as kubectl's Go zlib writes them; computed with Python's zlib), frames split at every byte as kubectl's WebSocket
/// tunnel may split them, and what the writer produces read back by the reader.
/// </summary>
public sealed class SpdyFramerTests
{
    // zlib.compressobj(9, zdict=SPDY dictionary): the block {streamtype: error, port: 8080, requestid: 0}, sync-flushed,
    // then {streamtype: data, port: 8080, requestid: 0} on the same stream.
    private static readonly byte[] KubectlErrorBlock = Convert.FromHexString(
        "78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45e01c6061606100a4398b20d198094ade8c0600000000ffff");

    private static readonly byte[] KubectlDataBlock = Convert.FromHexString("c2aa19540e2512d60b000000ffff");

    [Fact]
    public void The_dictionary_is_SPDY3s_with_the_id_kubectl_names()
    {
        Assert.Equal(1423, SpdyHeaderBlock.Dictionary.Length);
        uint a = 1;
        uint b = 0;
        foreach (byte value in SpdyHeaderBlock.Dictionary)
        {
            a = (a + value) % 65521;
            b = (b + a) % 65521;
        }

        Assert.Equal(0xE3C6A7C2u, (b << 16) | a);
        Assert.Equal([0x78, 0xF9, 0xE3, 0xC6, 0xA7, 0xC2], KubectlErrorBlock[..6]);
    }

    [Fact]
    public void Header_blocks_inflate_with_the_dictionary_on_one_stream_across_frames()
    {
        using var inflater = new ZlibInflater();
        var error = SpdyHeaderBlock.Parse(inflater.Inflate(KubectlErrorBlock));
        var data = SpdyHeaderBlock.Parse(inflater.Inflate(KubectlDataBlock));

        Assert.Equal(new Dictionary<string, string> { ["streamtype"] = "error", ["port"] = "8080", ["requestid"] = "0" }, error);
        Assert.Equal(new Dictionary<string, string> { ["streamtype"] = "data", ["port"] = "8080", ["requestid"] = "0" }, data);
    }

    [Fact]
    public void The_compressor_writes_stored_blocks_any_zlib_inflates()
    {
        var compressor = new SpdyHeaderCompressor();
        byte[] empty = SpdyHeaderBlock.Serialize(new Dictionary<string, string>());
        // The block, then the sync marker Go's inflater needs to hand the block out before the frame ends.
        Assert.Equal(Convert.FromHexString("7801000400FBFF00000000000000FFFF"), compressor.Compress(empty));
        Assert.Equal(Convert.FromHexString("000400FBFF00000000000000FFFF"), compressor.Compress(empty));

        var compressor2 = new SpdyHeaderCompressor();
        using var inflater = new ZlibInflater();
        var headers = new Dictionary<string, string> { ["streamtype"] = "data", ["port"] = "80", ["requestid"] = "7" };
        Assert.Equal(headers, SpdyHeaderBlock.Parse(inflater.Inflate(compressor2.Compress(SpdyHeaderBlock.Serialize(headers)))));
        var big = new Dictionary<string, string> { ["x"] = new('v', 70_000) };
        Assert.Equal(big, SpdyHeaderBlock.Parse(inflater.Inflate(compressor2.Compress(SpdyHeaderBlock.Serialize(big)))));
    }

    [Fact]
    public async Task Frames_split_at_every_byte_are_read_whole()
    {
        byte[] wire =
        [
            // SYN_STREAM id 1, associated 0, priority 0, slot 0, kubectl's first header block.
            .. Convert.FromHexString("80030001000000" + (10 + KubectlErrorBlock.Length).ToString("x2")),
            .. Convert.FromHexString("00000001000000000000"),
            .. KubectlErrorBlock,
            // DATA on stream 3 with FIN: "hi".
            .. Convert.FromHexString("00000003010000026869"),
            // PING 5, SETTINGS with one entry, WINDOW_UPDATE stream 3 delta 1024, an unknown control type 12.
            .. Convert.FromHexString("800300060000000400000005"),
            .. Convert.FromHexString("800300040000000C000000010000000700010000"),
            .. Convert.FromHexString("80030009000000080000000300000400"),
            .. Convert.FromHexString("8003000C0000000100"),
        ];
        using var reader = new SpdyFrameReader(new TrickleStream(wire));

        var syn = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal(SpdyFrameType.SynStream, syn.Type);
        Assert.Equal(1u, syn.StreamId);
        Assert.Equal("error", syn.Headers!["streamtype"]);
        var data = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal((SpdyFrameType.Data, 3u, true, "hi"), (data.Type, data.StreamId, data.Fin, System.Text.Encoding.ASCII.GetString(data.Payload)));
        var ping = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal((SpdyFrameType.Ping, 5u), (ping.Type, ping.Value));
        Assert.Equal(SpdyFrameType.Settings, (await reader.ReadAsync(CancellationToken.None))!.Type);
        var window = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal((SpdyFrameType.WindowUpdate, 3u, 1024u), (window.Type, window.StreamId, window.Value));
        Assert.Null(await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task What_the_writer_writes_the_reader_reads()
    {
        var wire = new MemoryStream();
        using (var writer = new SpdyFrameWriter(wire))
        {
            await writer.WriteSynStreamAsync(1, new Dictionary<string, string> { ["streamtype"] = "error", ["port"] = "80" }, fin: false, CancellationToken.None);
            await writer.WriteSynReplyAsync(2, new Dictionary<string, string>(), CancellationToken.None);
            await writer.WriteDataAsync(3, "payload"u8, fin: true, CancellationToken.None);
            await writer.WriteRstStreamAsync(3, SpdyRstStatus.Cancel, CancellationToken.None);
            await writer.WriteGoAwayAsync(7, 0, CancellationToken.None);
        }

        wire.Position = 0;
        using var reader = new SpdyFrameReader(wire);
        var syn = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal((SpdyFrameType.SynStream, 1u, "80"), (syn.Type, syn.StreamId, syn.Headers!["port"]));
        var reply = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal((SpdyFrameType.SynReply, 2u, 0), (reply.Type, reply.StreamId, reply.Headers!.Count));
        var data = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal((3u, true, "payload"), (data.StreamId, data.Fin, System.Text.Encoding.ASCII.GetString(data.Payload)));
        var rst = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal((SpdyFrameType.RstStream, 3u, (uint)SpdyRstStatus.Cancel), (rst.Type, rst.StreamId, rst.Value));
        var goAway = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal((SpdyFrameType.GoAway, 7u, 0u), (goAway.Type, goAway.StreamId, goAway.Value));
    }

    [Fact]
    public async Task Malformed_input_is_an_InvalidDataException()
    {
        using (var version2 = new SpdyFrameReader(new MemoryStream(Convert.FromHexString("800200060000000400000001"))))
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => version2.ReadAsync(CancellationToken.None).AsTask());
        }

        using (var truncated = new SpdyFrameReader(new MemoryStream(Convert.FromHexString("0000000100000010AB"))))
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => truncated.ReadAsync(CancellationToken.None).AsTask());
        }

        byte[] uppercase = SpdyHeaderBlock.Serialize(new Dictionary<string, string> { ["port"] = "80" });
        uppercase[8] = (byte)'P';
        Assert.Throws<InvalidDataException>(() => SpdyHeaderBlock.Parse(uppercase));
        Assert.Throws<InvalidDataException>(() => SpdyHeaderBlock.Parse(uppercase.AsSpan(0, 10)));
    }

    /// <summary>Hands out one byte per read, as a frame split across many WebSocket messages arrives.</summary>
    private sealed class TrickleStream(byte[] bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => bytes.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position == bytes.Length || count == 0)
            {
                return 0;
            }

            buffer[offset] = bytes[_position++];
            return 1;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
