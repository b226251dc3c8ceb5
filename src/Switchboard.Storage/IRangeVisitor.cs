namespace Switchboard.Storage;

/// <summary>
/// Takes the keys of a range one at a time, in key order, while the store reads them
/// (<see cref="IKeyValueStore.RangeAsync(string, RangeOptions, IRangeVisitor, CancellationToken)"/>): a caller turns
/// each row into what it needs (a response message, a decoded object) straight from the store's buffers, with no
/// <see cref="KeyValue"/> and no copy of the value in between.
/// </summary>
public interface IRangeVisitor
{
    /// <summary>One key of the range; its spans are valid only during this call. An exception ends the range with it.</summary>
    void Visit(in KeyValueRow row);
}
