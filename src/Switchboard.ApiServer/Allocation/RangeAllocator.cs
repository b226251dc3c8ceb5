using System.Text;
using System.Text.Json;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Allocation;

/// <summary>
/// A persistent bitmap over <c>size</c> slots stored under one key (as kube-apiserver's RangeAllocation at
/// /registry/ranges/…), changed only by compare-and-swap so concurrent allocations never hand out a slot twice.
/// Dynamic allocation scans from a random start, first in [offset, size) then in [0, offset) (KEP-3070/3668),
/// keeping the low slots for static requests.
/// </summary>
internal sealed class RangeAllocator
{
    private readonly IKeyValueStore _store;
    private readonly string _key;
    private readonly string _range;
    private readonly int _size;
    private readonly int _offset;
    private readonly Random _random;

    public RangeAllocator(IKeyValueStore store, string key, string range, int size, int offset, Random random)
    {
        _store = store;
        _key = key;
        _range = range;
        _size = size;
        _offset = offset;
        _random = random;
    }

    public int Size => _size;

    /// <summary>Takes slot <paramref name="index"/>; false if it is already taken. A dry run only checks.</summary>
    public async Task<bool> TryAllocateAsync(int index, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _size);
        while (true)
        {
            var (bitmap, kv) = await ReadAsync(cancellationToken);
            if (IsSet(bitmap, index))
            {
                return false;
            }

            if (dryRun)
            {
                return true;
            }

            Set(bitmap, index, true);
            if (await TryWriteAsync(bitmap, kv, cancellationToken))
            {
                return true;
            }
        }
    }

    /// <summary>Takes any free slot, or returns null when the range is full. A dry run only finds one.</summary>
    public async Task<int?> AllocateNextAsync(bool dryRun, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (bitmap, kv) = await ReadAsync(cancellationToken);
            int? free = FindFree(bitmap, _offset, _size) ?? FindFree(bitmap, 0, _offset);
            if (free is not { } index)
            {
                return null;
            }

            if (dryRun)
            {
                return index;
            }

            Set(bitmap, index, true);
            if (await TryWriteAsync(bitmap, kv, cancellationToken))
            {
                return index;
            }
        }
    }

    public async Task ReleaseAsync(int index, CancellationToken cancellationToken)
    {
        if (index < 0 || index >= _size)
        {
            return;
        }

        while (true)
        {
            var (bitmap, kv) = await ReadAsync(cancellationToken);
            if (!IsSet(bitmap, index))
            {
                return;
            }

            Set(bitmap, index, false);
            if (await TryWriteAsync(bitmap, kv, cancellationToken))
            {
                return;
            }
        }
    }

    public async Task<bool> IsAllocatedAsync(int index, CancellationToken cancellationToken)
    {
        var (bitmap, _) = await ReadAsync(cancellationToken);
        return index >= 0 && index < _size && IsSet(bitmap, index);
    }

    private static bool IsSet(byte[] bitmap, int index) => (bitmap[index >> 3] & (1 << (index & 7))) != 0;

    private static void Set(byte[] bitmap, int index, bool value)
    {
        if (value)
        {
            bitmap[index >> 3] |= (byte)(1 << (index & 7));
        }
        else
        {
            bitmap[index >> 3] &= (byte)~(1 << (index & 7));
        }
    }

    private int? FindFree(byte[] bitmap, int from, int to)
    {
        int count = to - from;
        if (count <= 0)
        {
            return null;
        }

        int start = _random.Next(count);
        for (int i = 0; i < count; i++)
        {
            int index = from + ((start + i) % count);
            if (!IsSet(bitmap, index))
            {
                return index;
            }
        }

        return null;
    }

    private async Task<(byte[] Bitmap, KeyValue? Kv)> ReadAsync(CancellationToken cancellationToken)
    {
        var kv = await _store.GetAsync(_key, cancellationToken);
        byte[] bitmap = new byte[(_size + 7) / 8];
        if (kv is not null)
        {
            using var doc = JsonDocument.Parse(kv.Value);
            byte[] data = doc.RootElement.TryGetProperty("data", out var d) ? d.GetBytesFromBase64() : [];
            data.AsSpan(0, Math.Min(data.Length, bitmap.Length)).CopyTo(bitmap);
        }

        return (bitmap, kv);
    }

    private async Task<bool> TryWriteAsync(byte[] bitmap, KeyValue? kv, CancellationToken cancellationToken)
    {
        byte[] value = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["apiVersion"] = "v1",
            ["kind"] = "RangeAllocation",
            ["range"] = _range,
            ["data"] = Convert.ToBase64String(bitmap),
        }));
        try
        {
            if (kv is null)
            {
                await _store.CreateAsync(_key, value, null, cancellationToken);
            }
            else
            {
                await _store.UpdateAsync(_key, value, kv.ModRevision, null, cancellationToken);
            }

            return true;
        }
        catch (StorageException e) when (e.Error is StorageError.KeyExists or StorageError.RevisionMismatch or StorageError.KeyNotFound)
        {
            return false;
        }
    }
}
