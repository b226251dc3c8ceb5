namespace Switchboard.Storage;

/// <summary>Options of <see cref="IKeyValueStore.RangeAsync"/>.</summary>
/// <param name="Limit">At most this many keys (0: all).</param>
/// <param name="Revision">Read as of this revision (0: the current one).</param>
/// <param name="StartAfter">Only keys strictly after this one (for pagination), or null.</param>
public readonly record struct RangeOptions(long Limit = 0, long Revision = 0, string? StartAfter = null);
