using System.Diagnostics.CodeAnalysis;

namespace Switchboard.Dns.Zones;

/// <summary>
/// The immutable name → node table of a snapshot, split into 256 shards by name hash so that publishing a
/// change copies only the shards it touches (plus the shard array) instead of the whole zone: with 10,000
/// services one watch event copies a few hundred entries, not tens of thousands.
/// </summary>
internal sealed class ZoneTable
{
    private const int ShardCount = 256;

    private readonly Shard[] _shards;

    private ZoneTable(Shard[] shards) => _shards = shards;

    public static ZoneTable Empty { get; } = new([.. Enumerable.Range(0, ShardCount).Select(_ => new Shard(new Dictionary<byte[], ZoneNode>(WireNameComparer.Instance)))]);

    public int Count => _shards.Sum(s => s.Map.Count);

    public IEnumerable<byte[]> Keys => _shards.SelectMany(s => s.Map.Keys);

    /// <remarks><c>name</c>: lower-case wire form.</remarks>
    public bool TryGetValue(ReadOnlySpan<byte> name, [MaybeNullWhen(false)] out ZoneNode node) =>
        _shards[ShardOf(name)].Lookup.TryGetValue(name, out node);

    /// <summary>A table with these names set (a node) or removed (null); this one is left as it was.</summary>
    public ZoneTable With(IEnumerable<(byte[] Name, ZoneNode? Node)> changes)
    {
        Shard[] shards = (Shard[])_shards.Clone();
        var copied = new bool[ShardCount];
        foreach ((byte[] name, ZoneNode? node) in changes)
        {
            int index = ShardOf(name);
            if (!copied[index])
            {
                shards[index] = new Shard(new Dictionary<byte[], ZoneNode>(shards[index].Map, WireNameComparer.Instance));
                copied[index] = true;
            }

            if (node is null)
            {
                shards[index].Map.Remove(name);
            }
            else
            {
                shards[index].Map[name] = node;
            }
        }

        return new ZoneTable(shards);
    }

    private static int ShardOf(ReadOnlySpan<byte> name) => (int)((uint)WireNameComparer.Instance.GetHashCode(name) % ShardCount);

    private sealed class Shard
    {
        public Shard(Dictionary<byte[], ZoneNode> map)
        {
            Map = map;
            Lookup = map.GetAlternateLookup<ReadOnlySpan<byte>>();
        }

        public Dictionary<byte[], ZoneNode> Map { get; }

        public Dictionary<byte[], ZoneNode>.AlternateLookup<ReadOnlySpan<byte>> Lookup { get; }
    }
}
