namespace Switchboard.Storage;

/// <summary>What a range gave besides its keys (<see cref="IKeyValueStore.RangeAsync(string, RangeOptions, IRangeVisitor, CancellationToken)"/>).</summary>
/// <param name="Revision">The revision the read was served at.</param>
/// <param name="More">Whether keys beyond the visited ones matched but were cut by the limit.</param>
/// <param name="Count">How many keys matched in all (ignoring the limit, counting from StartAfter).</param>
public readonly record struct RangeSummary(long Revision, bool More, long Count);
