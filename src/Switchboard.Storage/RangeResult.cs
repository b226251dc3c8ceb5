namespace Switchboard.Storage;

/// <summary>The answer of <see cref="IKeyValueStore.RangeAsync"/>.</summary>
/// <param name="Items">The keys, in key order.</param>
/// <param name="Revision">The revision the read was served at.</param>
/// <param name="More">Whether keys beyond <paramref name="Items"/> matched but were cut by the limit.</param>
/// <param name="Count">How many keys matched in all (ignoring the limit, counting from StartAfter).</param>
public sealed record RangeResult(IReadOnlyList<KeyValue> Items, long Revision, bool More, long Count);
