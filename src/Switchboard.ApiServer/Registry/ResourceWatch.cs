namespace Switchboard.ApiServer.Registry;

/// <summary>
/// A watch as <see cref="ResourceStore{T}.WatchAsync"/> opened it: the objects a watcher starting from the current
/// state is sent first, the revision they were read at, and the changes after that revision. Enumerating
/// <see cref="Changes"/> ends when the store drops the watcher (it watches again from the last version it got), and
/// fails with the API error of a store failure: 410 Expired once the history it replays is compacted.
/// </summary>
internal sealed record ResourceWatch<T>(IReadOnlyList<T> Initial, long Revision, IAsyncEnumerable<ResourceEvent<T>> Changes);
