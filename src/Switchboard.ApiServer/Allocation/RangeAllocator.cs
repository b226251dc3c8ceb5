using System.Text.Json;
using System.Text.Json.Nodes;
using Switchboard.Kube.Serialization;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Allocation;

/// <summary>
/// A persistent bitmap over <c>size</c> slots stored under one key (as kube-apiserver's RangeAllocation at
/// /registry/ranges/…), changed only by compare-and-swap so concurrent allocations never hand out a slot twice.
/// Dynamic allocation scans from a random start, first in [offset, size) then in [0, offset) (KEP-3070/3668),
/// keeping the low slots for static requests. Concurrent changes in this process are combined: whoever holds the
/// writer turn decides every queued change on one copy of the bitmap and writes it once, so parallel creates do
/// not serialise on one store round trip each (nor fight over the CAS). A change may carry the write of the object
/// that holds the slot (a Service's create or delete): it commits in the same transaction as the bitmap.
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
        CheckIndex(index);
        if (dryRun)
        {
            return !IsSet((await ReadAsync(cancellationToken)).Bitmap, index);
        }

        return (await SubmitAsync(new Change(index, Take: true))).Slot is not null;
    }

    /// <summary>Takes any free slot, or returns null when the range is full. A dry run only finds one.</summary>
    public async Task<int?> AllocateNextAsync(bool dryRun, CancellationToken cancellationToken)
    {
        if (dryRun)
        {
            var (bitmap, _) = await ReadAsync(cancellationToken);
            return FindFree(bitmap, _offset, _size) ?? FindFree(bitmap, 0, _offset);
        }

        return (await SubmitAsync(new Change(null, Take: true))).Slot;
    }

    public async Task ReleaseAsync(int index, CancellationToken cancellationToken)
    {
        if (index >= 0 && index < _size)
        {
            await SubmitAsync(new Change(index, Take: false));
        }
    }

    /// <summary>
    /// Takes slot <paramref name="index"/> (null: any free one) and creates <paramref name="key"/> with the value
    /// <paramref name="value"/> makes for the slot, in one transaction: the bitmap and the object share a revision, so
    /// no crash leaves one without the other. Null when the slot cannot be taken (nothing is written); fails with
    /// <see cref="StorageError.KeyExists"/> (nothing is taken) when the key exists.
    /// </summary>
    public async Task<(int Slot, KeyValue Created)?> TakeAndCreateAsync(int? index, string key, Func<int, byte[]> value)
    {
        if (index is { } wanted)
        {
            CheckIndex(wanted);
        }

        var committed = await SubmitAsync(new Change(index, Take: true, new ObjectWrite(key, value, 0)));
        return committed.Slot is { } slot ? (slot, ((TxnPutResult)committed.Written!).Current) : null;
    }

    /// <summary>
    /// Deletes <paramref name="key"/> if it is at <paramref name="modRevision"/> and releases slot <paramref name="index"/>,
    /// in one transaction. Fails with <see cref="StorageError.KeyNotFound"/> or <see cref="StorageError.RevisionMismatch"/>
    /// (nothing is released) when the key is gone or was written since.
    /// </summary>
    public async Task<DeleteResult> ReleaseAndDeleteAsync(int index, string key, long modRevision)
    {
        CheckIndex(index);
        var committed = await SubmitAsync(new Change(index, Take: false, new ObjectWrite(key, null, modRevision)));
        return new DeleteResult(((TxnDeleteResult)committed.Written!).Deleted[0], committed.Revision);
    }

    /// <summary>
    /// Queues a change and waits for its outcome. Not cancellable once queued: a change decided but not reported
    /// would leak its slot.
    /// </summary>
    private async Task<Committed> SubmitAsync(Change change)
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

    /// <summary>
    /// Decides the batch's changes on one copy of the bitmap and commits them with their objects' writes in one
    /// transaction, guarded by the bitmap's revision and each object's state; when a guard fails the store's answer
    /// tells which, the changes whose object is not as expected fail, and the rest are decided again.
    /// </summary>
    private async Task CommitAsync(List<Change> batch)
    {
        var pending = batch;
        try
        {
            while (pending.Count > 0)
            {
                // One write per object key per transaction: a second change to the same key waits for the next round.
                var keys = new HashSet<string>(StringComparer.Ordinal);
                var now = pending.Where(c => c.Write is null || keys.Add(c.Write.Key)).ToList();
                var later = pending.Except(now).ToList();

                bool cached = _known is not null;
                var (current, kv) = _known ?? await ReadAsync(CancellationToken.None);
                byte[] bitmap = (byte[])current.Clone();
                var slots = now.Select(c => Apply(bitmap, c)).ToList();
                bool changed = !bitmap.AsSpan().SequenceEqual(current);
                var writes = Enumerable.Range(0, now.Count).Where(i => now[i].Write is not null && slots[i] is not null).ToList();
                if (!changed && writes.Count == 0)
                {
                    if (cached)
                    {
                        // Nothing to write, perhaps only because the copy is stale (a slot freed elsewhere): decide on a fresh read.
                        _known = null;
                        continue;
                    }

                    _known = (current, kv);
                    Complete(now, slots, [], 0);
                    pending = later;
                    continue;
                }

                var result = await _store.TxnAsync(RoundTransaction(bitmap, kv, changed, now, slots, writes), CancellationToken.None);
                if (result.Succeeded)
                {
                    _known = changed ? (bitmap, ((TxnPutResult)result.Results[0]).Current) : (current, kv);
                    Complete(now, slots, writes.Select((i, j) => (i, result.Results[(changed ? 1 : 0) + j])), result.Revision);
                    pending = later;
                    continue;
                }

                // The failure branch read the bitmap and every object: fail the changes whose object is not as expected.
                var stored = ((TxnRangeResult)result.Results[0]).Items.FirstOrDefault();
                _known = stored?.ModRevision == kv?.ModRevision ? (current, kv) : (Parse(stored), stored);
                var failed = new HashSet<Change>(ReferenceEqualityComparer.Instance);
                for (int j = 0; j < writes.Count; j++)
                {
                    var change = now[writes[j]];
                    var found = ((TxnRangeResult)result.Results[1 + j]).Items.FirstOrDefault();
                    if (Conflict(change.Write!, found) is { } conflict)
                    {
                        change.Outcome.TrySetException(conflict);
                        failed.Add(change);
                    }
                }

                pending = [.. pending.Where(c => !failed.Contains(c))];
            }
        }
        catch (Exception e)
        {
            _known = null;
            pending.ForEach(c => c.Outcome.TrySetException(e));
        }
    }

    /// <summary>The transaction of one round: the bitmap (if changed) and the objects, each guarded; its failure branch reads them all.</summary>
    private Transaction RoundTransaction(byte[] bitmap, KeyValue? kv, bool changed, List<Change> changes, List<int?> slots, List<int> writes)
    {
        var compares = new List<TxnCompare>
        {
            kv is null ? new TxnCompare(_key, CompareTarget.CreateRevision, CompareOperator.Equal, 0) : new TxnCompare(_key, CompareTarget.ModRevision, CompareOperator.Equal, kv.ModRevision),
        };
        var success = new List<TxnOperation>();
        var failure = new List<TxnOperation> { new TxnRange(_key) };
        if (changed)
        {
            success.Add(new TxnPut(_key, Encode(bitmap)));
        }

        foreach (int i in writes)
        {
            var write = changes[i].Write!;
            if (write.Value is { } value)
            {
                compares.Add(new TxnCompare(write.Key, CompareTarget.CreateRevision, CompareOperator.Equal, 0));
                success.Add(new TxnPut(write.Key, value(slots[i]!.Value)));
            }
            else
            {
                compares.Add(new TxnCompare(write.Key, CompareTarget.ModRevision, CompareOperator.Equal, write.ModRevision));
                success.Add(new TxnDelete(write.Key));
            }

            failure.Add(new TxnRange(write.Key));
        }

        return new Transaction(compares, success, failure);
    }

    /// <summary>Why <paramref name="write"/> cannot be made with the object as <paramref name="found"/>, or null when it can.</summary>
    private static StorageException? Conflict(ObjectWrite write, KeyValue? found) => write.Value is not null
        ? found is null ? null : new StorageException(StorageError.KeyExists, $"key '{write.Key}' already exists", write.Key, found)
        : found is null ? new StorageException(StorageError.KeyNotFound, $"key '{write.Key}' does not exist", write.Key)
        : found.ModRevision != write.ModRevision ? new StorageException(StorageError.RevisionMismatch, $"key '{write.Key}' is at mod revision {found.ModRevision}, not {write.ModRevision}", write.Key, found)
        : null;

    private void Complete(List<Change> changes, List<int?> slots, IEnumerable<(int Index, TxnOperationResult Result)> written, long revision)
    {
        lock (_takenLock)
        {
            for (int i = 0; i < changes.Count; i++)
            {
                if (changes[i].Take && slots[i] is { } slot)
                {
                    _takenAt[slot] = ++_takes;
                }
            }
        }

        var results = written.ToDictionary(w => w.Index, w => w.Result);
        for (int i = 0; i < changes.Count; i++)
        {
            changes[i].Outcome.TrySetResult(new Committed(slots[i], results.GetValueOrDefault(i), revision));
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
        return (Parse(kv), kv);
    }

    /// <summary>The bitmap a stored RangeAllocation holds (empty when there is none).</summary>
    private byte[] Parse(KeyValue? kv)
    {
        byte[] bitmap = NewBitmap();
        if (kv is not null)
        {
            using var doc = JsonDocument.Parse(kv.Value);
            byte[] data = doc.RootElement.TryGetProperty("data", out var d) ? d.GetBytesFromBase64() : [];
            data.AsSpan(0, Math.Min(data.Length, bitmap.Length)).CopyTo(bitmap);
        }

        return bitmap;
    }

    /// <summary>The bitmap as the RangeAllocation object kube-apiserver stores.</summary>
    private byte[] Encode(byte[] bitmap) => ModelJson.NodeToUtf8Bytes(new JsonObject
    {
        ["apiVersion"] = "v1",
        ["kind"] = "RangeAllocation",
        ["range"] = _range,
        ["data"] = Convert.ToBase64String(bitmap),
    });

    /// <summary>Writes the bitmap if the key is still as read; null when someone else changed it first.</summary>
    private async Task<KeyValue?> TryWriteAsync(byte[] bitmap, KeyValue? kv)
    {
        byte[] value = Encode(bitmap);
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

    private void CheckIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _size);
    }

    /// <summary>
    /// One queued change: take a given slot, take any free slot (no index), or release a slot; with the object write
    /// that commits with it, if any.
    /// </summary>
    private sealed record Change(int? Index, bool Take, ObjectWrite? Write = null)
    {
        public TaskCompletionSource<Committed> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>An object created (<paramref name="Value"/> makes its value for the slot taken) or deleted at <paramref name="ModRevision"/>.</summary>
    private sealed record ObjectWrite(string Key, Func<int, byte[]>? Value, long ModRevision);

    /// <summary>A change's outcome: the slot (null: not taken), the object write's result and the transaction's revision.</summary>
    private readonly record struct Committed(int? Slot, TxnOperationResult? Written, long Revision);
}
