namespace Switchboard.Storage;

/// <summary>The ranges most callers want: every key kept as a <see cref="KeyValue"/> of its own, over the store's visitor range.</summary>
public static class KeyValueStoreExtensions
{
    /// <summary>
    /// The keys starting with <paramref name="prefix"/> in key order, as of <see cref="RangeOptions.Revision"/> (0: now),
    /// each copied out of the store. Fails as <see cref="IKeyValueStore.RangeAsync(string, RangeOptions, IRangeVisitor, CancellationToken)"/> does.
    /// </summary>
    public static async Task<RangeResult> RangeAsync(this IKeyValueStore store, string prefix, RangeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var items = new KeyValueList();
        var summary = await store.RangeAsync(prefix, options, items, cancellationToken).ConfigureAwait(false);
        return new RangeResult(items.Items, summary.Revision, summary.More, summary.Count);
    }

    /// <summary>Keeps a copy of every key it visits.</summary>
    private sealed class KeyValueList : IRangeVisitor
    {
        public List<KeyValue> Items { get; } = [];

        public void Visit(in KeyValueRow row) => Items.Add(row.ToKeyValue());
    }
}
