namespace Switchboard.Storage;

/// <summary>What happened to a key.</summary>
public enum WatchEventType
{
    Created,
    Updated,
    Deleted,

    /// <summary>
    /// No change: the watch has given every change up to <see cref="WatchEvent.Revision"/> (etcd's progress
    /// notification). Only a watch opened with a progress interval gets these.
    /// </summary>
    Progress,
}

/// <summary>One change seen by a watch, or the watch's progress.</summary>
/// <param name="Type">Created, updated or deleted.</param>
/// <param name="Current">
/// The key after the change. For a deletion: the key with an empty value and <see cref="KeyValue.ModRevision"/>
/// the revision of the deletion.
/// </param>
/// <param name="Previous">The value before the change (null for a creation).</param>
public sealed record WatchEvent(WatchEventType Type, KeyValue Current, KeyValue? Previous)
{
    /// <summary>The store revision of this change.</summary>
    public long Revision => Current.ModRevision;

    /// <summary>The progress of a watch that has given every change up to <paramref name="revision"/>.</summary>
    public static WatchEvent ProgressAt(long revision) => new(WatchEventType.Progress, new KeyValue("", [], 0, revision, 0), null);
}
