namespace Switchboard.Storage.Sqlite;

/// <summary>The current and compacted revision as seen by one read transaction.</summary>
internal readonly record struct StoreSnapshot(long Revision, long Compacted);
