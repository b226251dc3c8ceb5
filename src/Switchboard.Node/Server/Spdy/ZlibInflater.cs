using System.Runtime.InteropServices;

namespace Switchboard.Node.Server.Spdy;

/// <summary>
/// The receiving side of a connection's header compression: one zlib inflate stream across all the peer's header
/// blocks, primed with the SPDY dictionary when the stream's header asks for it (kubectl's does: FDICT, id E3C6A7C2).
/// System.IO.Compression cannot set an inflate dictionary, so this calls the system's libz (libz.so.1, which Debian
/// always has) directly. Each block ends at a sync flush, so all of a frame's block comes out of that frame's bytes.
/// </summary>
internal sealed partial class ZlibInflater : IDisposable
{
    private const int ZOk = 0;
    private const int ZStreamEnd = 1;
    private const int ZNeedDict = 2;
    private const int ZBufError = -5;
    private const int ZSyncFlush = 2;
    private const string Library = "libz.so.1";
    private readonly ZStreamHandle _stream;

    public ZlibInflater()
    {
        _stream = ZStreamHandle.Allocate();
        int result = InflateInit(_stream.Pointer, "1.2.13", ZStream.Size);
        if (result != ZOk)
        {
            _stream.Dispose();
            throw new InvalidOperationException($"inflateInit failed: zlib error {result}");
        }

        _stream.Initialized = true;
    }

    /// <summary>Inflates one header block's compressed bytes; corrupt input throws <see cref="InvalidDataException"/>.</summary>
    public unsafe byte[] Inflate(ReadOnlySpan<byte> compressed)
    {
        ObjectDisposedException.ThrowIf(_stream.IsClosed, this);
        var output = new MemoryStream();
        Span<byte> chunk = stackalloc byte[4096];
        ZStream* z = (ZStream*)_stream.Pointer;
        fixed (byte* input = compressed)
        fixed (byte* outputChunk = chunk)
        {
            z->NextIn = input;
            z->AvailIn = (uint)compressed.Length;
            while (true)
            {
                z->NextOut = outputChunk;
                z->AvailOut = (uint)chunk.Length;
                int result = Inflate(_stream.Pointer, ZSyncFlush);
                if (result == ZNeedDict)
                {
                    fixed (byte* dictionary = SpdyHeaderBlock.Dictionary)
                    {
                        result = InflateSetDictionary(_stream.Pointer, dictionary, (uint)SpdyHeaderBlock.Dictionary.Length);
                    }

                    if (result != ZOk)
                    {
                        throw new InvalidDataException("the header block's zlib stream asks for a dictionary other than SPDY's");
                    }

                    continue;
                }

                int produced = chunk.Length - (int)z->AvailOut;
                output.Write(chunk[..produced]);
                if (result is not (ZOk or ZBufError or ZStreamEnd))
                {
                    throw new InvalidDataException($"the header block does not inflate: zlib error {result}");
                }

                // Done once all input is in and the last call had output space left over (nothing more pending).
                if (z->AvailIn == 0 && z->AvailOut != 0)
                {
                    break;
                }

                if (result == ZStreamEnd)
                {
                    throw new InvalidDataException("the header zlib stream ended; SPDY keeps it open for the connection");
                }
            }

            z->NextIn = null;
            z->NextOut = null;
        }

        return output.ToArray();
    }

    public void Dispose() => _stream.Dispose();

    [LibraryImport(Library, EntryPoint = "inflateInit_", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int InflateInit(IntPtr stream, string version, int streamSize);

    [LibraryImport(Library, EntryPoint = "inflate")]
    private static partial int Inflate(IntPtr stream, int flush);

    [LibraryImport(Library, EntryPoint = "inflateSetDictionary")]
    private static unsafe partial int InflateSetDictionary(IntPtr stream, byte* dictionary, uint length);

    [LibraryImport(Library, EntryPoint = "inflateEnd")]
    private static partial int InflateEnd(IntPtr stream);

    /// <summary>zlib's z_stream on LP64 Linux; it stays at one native address, since zlib keeps a pointer back to it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct ZStream
    {
        public static readonly int Size = sizeof(ZStream);
        public byte* NextIn;
        public uint AvailIn;
        public nuint TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public nuint TotalOut;
        public IntPtr Message;
        public IntPtr State;
        public IntPtr Alloc;
        public IntPtr Free;
        public IntPtr Opaque;
        public int DataType;
        public nuint Adler;
        public nuint Reserved;
    }

    /// <summary>Owns the native z_stream: ends the inflater and frees the memory exactly once.</summary>
    private sealed class ZStreamHandle : SafeHandle
    {
        private ZStreamHandle()
            : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public IntPtr Pointer => handle;

        public bool Initialized { get; set; }

        public override bool IsInvalid => handle == IntPtr.Zero;

        public static unsafe ZStreamHandle Allocate()
        {
            var owner = new ZStreamHandle();
            owner.SetHandle((IntPtr)NativeMemory.AllocZeroed((nuint)ZStream.Size));
            return owner;
        }

        protected override unsafe bool ReleaseHandle()
        {
            if (Initialized)
            {
                InflateEnd(handle);
            }

            NativeMemory.Free((void*)handle);
            return true;
        }
    }
}
