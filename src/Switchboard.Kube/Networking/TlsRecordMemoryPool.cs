using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Switchboard.Kube.Networking;

/// <summary>
/// Kestrel's buffers in blocks of a full TLS record (16 KiB) instead of its own 4 KiB. Kestrel's TLS layer hands its
/// SslStream the response pipe one block at a time, and SslStream makes each write a record of its own: with 4 KiB
/// blocks a streamed download (port-forward, exec, a relayed stream) went out as 4 KiB records, four times the
/// records, each with its own seal, header, tag and, for the peer, its own open, that a full record needs. Blocks are
/// pinned arrays (as Kestrel's), reused through a free list kept to <see cref="MaxFree"/> blocks; the rest are left
/// to the collector.
/// </summary>
public sealed class TlsRecordMemoryPool : MemoryPool<byte>
{
    /// <summary>TLS's largest record payload (RFC 8446 §5.1): one block is sealed as one record.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>
    /// The free blocks kept for reuse (1 MiB); a burst beyond them is garbage once returned. A stream holds a few blocks
    /// at a time; with 256 kept, a burst of 10,000 services created through <c>up</c> left its pools holding 516 free
    /// blocks (8 MiB, pinned) for the rest of the process's life.
    /// </summary>
    private const int MaxFree = 64;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private bool _disposed;

    public override int MaxBufferSize => BlockSize;

    /// <summary>Makes Kestrel's socket transport, and so every pipe and TLS layer over its connections, draw from this pool.</summary>
    public static void AddTo(IServiceCollection services) => services.AddSingleton<IMemoryPoolFactory<byte>, Factory>();

    /// <summary>A block of <see cref="BlockSize"/> bytes, whatever up to it is asked (Kestrel asks for 4 KiB and fills what it gets).</summary>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            return block;
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (!_disposed && Interlocked.Increment(ref _freeCount) <= MaxFree)
        {
            _free.Enqueue(block);
            return;
        }

        Interlocked.Decrement(ref _freeCount);
    }

    /// <summary>One block, handed out again once its renter disposes it.</summary>
    private sealed class Block(TlsRecordMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public Memory<byte> Memory => _array;

        public void Dispose() => pool.Return(this);
    }

    /// <summary>What Kestrel's transport asks for its pool.</summary>
    private sealed class Factory : IMemoryPoolFactory<byte>
    {
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new TlsRecordMemoryPool();
    }
}
