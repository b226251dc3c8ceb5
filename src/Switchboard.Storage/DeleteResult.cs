namespace Switchboard.Storage;

/// <summary>The answer of <see cref="IKeyValueStore.DeleteAsync"/>.</summary>
/// <param name="Deleted">The value the key had when it was deleted.</param>
/// <param name="Revision">The store revision of the deletion.</param>
public sealed record DeleteResult(KeyValue Deleted, long Revision);
