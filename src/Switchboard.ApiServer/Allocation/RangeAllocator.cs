using System.Text;
using System.Text.Json;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Allocation;

/// <summary>
/// A persistent bitmap over <c>size</c> slots stored under one key (as kube-apiserver's RangeAllocation at
/// /registry/ranges/…), changed only by compare-and-swap so concurrent allocations never hand out a slot twice.
/// Dynamic allocation scans from a random start, first in [offset, size) then in [0, offset) (KEP-3070/3668),
/// keeping the low slots for static requests. Concurrent changes in this process are combined: whoever holds the
/// writer turn decides every queued change on one copy of the bitmap and writes it once, so parallel creates do
/// not serialise on one store round trip each (nor fight over the CAS).
/// </summary>
internal sealed class RangeAllocator
{
    private readonly IKeyValueStore _store;
    private readonly string _key;
    private readonly string _range;
    private readonly int _size;
    private readonly int _offset;
    private readonly Random _random;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly Lock _queueLock = new();
    private List<Change> _queue = [];

    // Which slots this process took, numbered in order: a repair must not release a slot taken again since it
    // found the slot unused (the take may be a create whose object is not stored yet).
    private readonly Lock _takenLock = new();
    private readonly Dictionary<int, long> _takenAt = [];
    private long _takes;

    // The bitmap as this process last wrote or read it; only touched by the writer turn. A stale copy costs one
    // failed compare-and-swap, never a wrong answer.
    private (byte[] Bitmap, KeyValue? Kv)? _known;

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
        if (dryRun)
        {
            return !IsSet((await ReadAsync(cancellationToken)).Bitmap, index);
        }

        return await SubmitAsync(new Change(index, Take: true)) is not null;
    }

    /// <summary>Takes any free slot, or returns null when the range is full. A dry run only finds one.</summary>
    public async Task<int?> AllocateNextAsync(bool dryRun, CancellationToken cancellationToken)
    {
        if (dryRun)
        {
            var (bitmap, _) = await ReadAsync(cancellationToken);
            return FindFree(bitmap, _offset, _size) ?? FindFree(bitmap, 0, _offset);
        }

        return await SubmitAsync(new Change(null, Take: true));
    }

    public async Task ReleaseAsync(int index, CancellationToken cancellationToken)
    {
        if (index >= 0 && index < _size)
        {
            await SubmitAsync(new Change(index, Take: false));
        }
    }

    /// <summary>
    /// Queues a change and waits for its outcome. Not cancellable once queued: a change decided but not reported
    /// would leak its slot.
    /// </summary>
    private async Task<int?> SubmitAsync(Change change)
    {
        lock (_queueLock)
        {
            _queue.Add(change);
        }

        await _writer.WaitAsync(CancellationToken.None);
        try
        {
            if (!change.Outcome.Task.IsCompleted)
            {
                List<Change> batch;
                lock (_queueLock)
                {
                    batch = _queue;
                    _queue = [];
                }

                await CommitAsync(batch);
            }
        }
        finally
        {
            _writer.Release();
        }

        return await change.Outcome.Task;
    }

    private async Task CommitAsync(List<Change> batch)
    {
        try
        {
            while (true)
            {
                bool cached = _known is not null;
                var (current, kv) = _known ?? await ReadAsync(CancellationToken.None);
                byte[] bitmap = (byte[])current.Clone();
                var outcomes = batch.Select(c => Apply(bitmap, c)).ToList();
                if (bitmap.AsSpan().SequenceEqual(current))
                {
                    if (cached)
                    {
                        // Nothing to write, perhaps only because the copy is stale (a slot freed elsewhere): decide on a fresh read.
                        _known = null;
                        continue;
                    }

                    _known = (current, kv);
                    Complete(batch, outcomes);
                    return;
                }

                if (await TryWriteAsync(bitmap, kv) is { } written)
                {
                    _known = (bitmap, written);
                    Complete(batch, outcomes);
                    return;
                }

                _known = null;
            }
        }
        catch (Exception e)
        {
            _known = null;
            batch.ForEach(c => c.Outcome.TrySetException(e));
        }
    }

    private void Complete(List<Change> batch, List<int?> outcomes)
    {
        lock (_takenLock)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                if (batch[i].Take && outcomes[i] is { } slot)
                {
                    _takenAt[slot] = ++_takes;
                }
            }
        }

        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].Outcome.TrySetResult(outcomes[i]);
        }
    }

    /// <summary>Applies one change to the bitmap: the slot taken (or released), or null when it cannot be taken.</summary>
    private int? Apply(byte[] bitmap, Change change)
    {
        if (!change.Take)
        {
            Set(bitmap, change.Index!.Value, false);
            return change.Index;
        }

        int? slot = change.Index is { } wanted
            ? (IsSet(bitmap, wanted) ? null : wanted)
            : FindFree(bitmap, _offset, _size) ?? FindFree(bitmap, 0, _offset);
        if (slot is { } taken)
        {
            Set(bitmap, taken, true);
        }

        return slot;
    }

    public async Task<bool> IsAllocatedAsync(int index, CancellationToken cancellationToken)
    {
        var (bitmap, _) = await ReadAsync(cancellationToken);
        return index >= 0 && index < _size && IsSet(bitmap, index);
    }

    /// <summary>The stored bitmap as of now, for a repair to compare with what the objects use.</summary>
    public async Task<RangeSnapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        long takes;
        lock (_takenLock)
        {
            takes = _takes;
        }

        var (bitmap, kv) = await ReadAsync(cancellationToken);
        return new RangeSnapshot(bitmap, kv, takes);
    }

    /// <summary>Whether this process took <paramref name="slot"/> after the snapshot whose <see cref="RangeSnapshot.Takes"/> is <paramref name="takes"/>.</summary>
    public bool TakenSince(int slot, long takes)
    {
        lock (_takenLock)
        {
            return _takenAt.TryGetValue(slot, out long at) && at > takes;
        }
    }

    /// <summary>
    /// Stores <paramref name="bitmap"/> in place of the snapshot's, only if nothing was allocated or released since
    /// the snapshot was read (compare-and-swap); false when something was, and the repair must start again.
    /// </summary>
    public async Task<bool> TryReplaceAsync(RangeSnapshot snapshot, byte[] bitmap, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            var written = await TryWriteAsync(bitmap, snapshot.Kv);
            _known = written is null ? null : ((byte[])bitmap.Clone(), written);
            return written is not null;
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>An empty bitmap of this range's size.</summary>
    public byte[] NewBitmap() => new byte[(_size + 7) / 8];

    public static bool IsSet(byte[] bitmap, int index) => (bitmap[index >> 3] & (1 << (index & 7))) != 0;

    public static void Set(byte[] bitmap, int index, bool value)
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
        byte[] bitmap = NewBitmap();
        if (kv is not null)
        {
            using var doc = JsonDocument.Parse(kv.Value);
            byte[] data = doc.RootElement.TryGetProperty("data", out var d) ? d.GetBytesFromBase64() : [];
            data.AsSpan(0, Math.Min(data.Length, bitmap.Length)).CopyTo(bitmap);
        }

        return (bitmap, kv);
    }

    /// <summary>Writes the bitmap if the key is still as read; null when someone else changed it first.</summary>
    private async Task<KeyValue?> TryWriteAsync(byte[] bitmap, KeyValue? kv)
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
            return kv is null
                ? await _store.CreateAsync(_key, value, null, CancellationToken.None)
                : await _store.UpdateAsync(_key, value, kv.ModRevision, null, CancellationToken.None);
        }
        catch (StorageException e) when (e.Error is StorageError.KeyExists or StorageError.RevisionMismatch or StorageError.KeyNotFound)
        {
            return null;
        }
    }

    /// <summary>One queued change: take a given slot, take any free slot (no index), or release a slot.</summary>
    private sealed record Change(int? Index, bool Take)
    {
        public TaskCompletionSource<int?> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
