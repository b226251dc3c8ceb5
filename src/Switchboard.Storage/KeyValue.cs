namespace Switchboard.Storage;

/// <summary>One version of one key, as etcd's mvccpb.KeyValue.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value (empty for a deletion tombstone).</param>
/// <param name="CreateRevision">The revision at which the key was created.</param>
/// <param name="ModRevision">The revision of the last write to the key.</param>
/// <param name="Version">How many writes the key has seen since its creation (1 after create).</param>
/// <param name="Lease">The lease the key is attached to (0: none); the key goes when the lease does.</param>
public sealed record KeyValue(string Key, byte[] Value, long CreateRevision, long ModRevision, long Version, long Lease = 0);
