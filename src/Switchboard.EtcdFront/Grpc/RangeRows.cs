using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Switchboard.Storage;
using ProtoKeyValue = Switchboard.EtcdFront.Protocol.KeyValue;

namespace Switchboard.EtcdFront.Grpc;

/// <summary>
/// A Range's keys as response messages, straight from the store's rows: each key and value is copied once, into large
/// blocks rented from the pool, and the messages' byte strings are views of those blocks, so a range of many keys
/// costs no array per key and no second copy before gRPC writes the response. The blocks go back to the pool when the
/// call is over (<see cref="Dispose"/>, registered with the request), once the response has been written.
/// </summary>
internal sealed class RangeRows(RepeatedField<ProtoKeyValue> target, bool keysOnly, bool countOnly) : IRangeVisitor, IDisposable
{
    private const int BlockBytes = 1024 * 1024;

    private readonly List<byte[]> _blocks = [];
    private byte[] _block = [];
    private int _used;

    public void Visit(in KeyValueRow row)
    {
        if (countOnly)
        {
            return;
        }

        target.Add(new ProtoKeyValue
        {
            Key = Copy(row.Key),
            Value = keysOnly || row.Value.IsEmpty ? ByteString.Empty : Copy(row.Value),
            CreateRevision = row.CreateRevision,
            ModRevision = row.ModRevision,
            Version = row.Version,
            Lease = row.Lease,
        });
    }

    public void Dispose()
    {
        foreach (byte[] block in _blocks)
        {
            ArrayPool<byte>.Shared.Return(block);
        }

        _blocks.Clear();
        _block = [];
    }

    private ByteString Copy(ReadOnlySpan<byte> bytes)
    {
        if (_block.Length - _used < bytes.Length)
        {
            _block = ArrayPool<byte>.Shared.Rent(Math.Max(BlockBytes, bytes.Length));
            _blocks.Add(_block);
            _used = 0;
        }

        var copy = _block.AsMemory(_used, bytes.Length);
        bytes.CopyTo(copy.Span);
        _used += bytes.Length;

        // The block is not written again until the call is over, and the message does not outlive the call.
        return UnsafeByteOperations.UnsafeWrap(copy);
    }
}
