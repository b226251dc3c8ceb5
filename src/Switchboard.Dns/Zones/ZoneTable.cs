using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Switchboard.Dns.Zones;

/// <summary>
/// The immutable name → node table of a snapshot, split into 256 shards by name hash so that publishing a
/// change copies only the shards it touches (plus the shard array) instead of the whole zone: with 10,000
/// services one watch event copies a few hundred entries, not tens of thousands. Each shard is a frozen
/// open-addressing table with the hashes stored inline: a query hashes its name once and compares names only
/// where the hash matches (a Dictionary probed through an alternate comparer cost a tenth of a UDP thread's time).
/// </summary>
internal sealed class ZoneTable
{
    private const int ShardCount = 256;

    private readonly Shard[] _shards;

    private ZoneTable(Shard[] shards) => _shards = shards;

    public static ZoneTable Empty { get; } = new([.. Enumerable.Range(0, ShardCount).Select(_ => Shard.Empty)]);

    public int Count => _shards.Sum(s => s.Count);

    public IEnumerable<byte[]> Keys => _shards.SelectMany(s => s.Names);

    /// <remarks><c>name</c>: lower-case wire form.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGetValue(ReadOnlySpan<byte> name, [MaybeNullWhen(false)] out ZoneNode node)
    {
        int hash = WireNameComparer.Instance.GetHashCode(name);
        node = _shards[ShardOf(hash)].Find(name, hash);
        return node is not null;
    }

    /// <summary>A table with these names set (a node) or removed (null); this one is left as it was.</summary>
    public ZoneTable With(IEnumerable<(byte[] Name, ZoneNode? Node)> changes)
    {
        var edited = new Dictionary<int, Dictionary<byte[], ZoneNode>>();
        foreach ((byte[] name, ZoneNode? node) in changes)
        {
            int index = ShardOf(WireNameComparer.Instance.GetHashCode(name));
            if (!edited.TryGetValue(index, out Dictionary<byte[], ZoneNode>? map))
            {
                map = _shards[index].ToDictionary();
                edited[index] = map;
            }

            if (node is null)
            {
                map.Remove(name);
            }
            else
            {
                map[name] = node;
            }
        }

        Shard[] shards = (Shard[])_shards.Clone();
        foreach ((int index, Dictionary<byte[], ZoneNode> map) in edited)
        {
            shards[index] = new Shard(map);
        }

        return new ZoneTable(shards);
    }

    private static int ShardOf(int hash) => (int)((uint)hash % ShardCount);

    /// <summary>
    /// One shard: its entries (hash, name, node) stored inline in a power-of-two array at most half full, probed
    /// linearly, so a hit reads one entry and its name rather than an index, a hash, a name and a node array apart.
    /// </summary>
    private sealed class Shard
    {
        private readonly Entry[] _entries;
        private readonly int _mask;

        public Shard(Dictionary<byte[], ZoneNode> map)
        {
            int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, map.Count * 2));
            _entries = new Entry[size];
            _mask = size - 1;
            Count = map.Count;
            foreach ((byte[] name, ZoneNode node) in map)
            {
                int hash = WireNameComparer.Instance.GetHashCode(name);
                int slot = SlotOf(hash);
                while (_entries[slot].Node is not null)
                {
                    slot = (slot + 1) & _mask;
                }

                _entries[slot] = new Entry(hash, name, node);
            }
        }

        public static Shard Empty { get; } = new(new Dictionary<byte[], ZoneNode>(WireNameComparer.Instance));

        public int Count { get; }

        public IEnumerable<byte[]> Names => _entries.Where(e => e.Node is not null).Select(e => e.Name);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public ZoneNode? Find(ReadOnlySpan<byte> name, int hash)
        {
            for (int slot = SlotOf(hash); ; slot = (slot + 1) & _mask)
            {
                ref readonly Entry entry = ref _entries[slot];
                if (entry.Node is null)
                {
                    return null;
                }

                if (entry.Hash == hash && name.SequenceEqual(entry.Name))
                {
                    return entry.Node;
                }
            }
        }

        public Dictionary<byte[], ZoneNode> ToDictionary()
        {
            var map = new Dictionary<byte[], ZoneNode>(Count, WireNameComparer.Instance);
            foreach (Entry entry in _entries)
            {
                if (entry.Node is not null)
                {
                    map[entry.Name] = entry.Node;
                }
            }

            return map;
        }

        /// <summary>The hash bits above those that chose the shard pick the first slot.</summary>
        private int SlotOf(int hash) => (int)((uint)hash / ShardCount) & _mask;

        /// <summary>An empty slot has no node.</summary>
        private readonly record struct Entry(int Hash, byte[] Name, ZoneNode Node);
    }
}
