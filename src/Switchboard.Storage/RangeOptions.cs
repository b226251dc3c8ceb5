namespace Switchboard.Storage;

/// <summary>Options of <see cref="IKeyValueStore.RangeAsync"/>.</summary>
/// <param name="Limit">At most this many keys (0: all).</param>
/// <param name="Revision">Read as of this revision (0: the current one).</param>
/// <param name="StartAfter">Only keys strictly after this one (for pagination), or null.</param>
/// <param name="RangeEnd">
/// If set, the range is etcd's [prefix, RangeEnd) rather than the keys starting with the prefix (a range end of
/// <see cref="KeyInterval.ToEnd"/> means every key from the first argument on).
/// </param>
public readonly record struct RangeOptions(long Limit = 0, long Revision = 0, string? StartAfter = null, string? RangeEnd = null);
