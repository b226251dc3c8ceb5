using System.Text;

namespace Switchboard.Storage;

/// <summary>
/// One key of a range as the store reads it, not copied: the key (UTF-8) and the value are views of the store's own
/// buffers, valid only during the <see cref="IRangeVisitor.Visit"/> call that hands them over, so a range of many keys
/// costs no array per key. A caller that keeps a key copies it (<see cref="ToKeyValue"/>).
/// </summary>
public readonly ref struct KeyValueRow(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long createRevision, long modRevision, long version, long lease)
{
    /// <summary>The key, UTF-8.</summary>
    public ReadOnlySpan<byte> Key { get; } = key;

    public ReadOnlySpan<byte> Value { get; } = value;

    public long CreateRevision { get; } = createRevision;

    public long ModRevision { get; } = modRevision;

    public long Version { get; } = version;

    public long Lease { get; } = lease;

    /// <summary>The key as a string.</summary>
    public string KeyString() => Encoding.UTF8.GetString(Key);

    /// <summary>A copy that outlives the visit.</summary>
    public KeyValue ToKeyValue() => new(KeyString(), Value.ToArray(), CreateRevision, ModRevision, Version, Lease);
}
