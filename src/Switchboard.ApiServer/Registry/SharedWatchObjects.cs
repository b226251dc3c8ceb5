using System.Globalization;
using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// Decoded objects shared by every watch that sees the same stored change: the store hands each subscriber the same
/// <see cref="KeyValue"/>, so N watchers of a kind (every node watching pods, say) decode a change once instead of N
/// times, and what is written from the one object can be shared too. Shared objects are read-only.
/// </summary>
internal static class SharedWatchObjects<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly ConditionalWeakTable<KeyValue, T> Decoded = new();

    public static T Decode(KeyValue kv) => Decoded.GetValue(kv, ObjectCodec.Decode<T>);

    /// <summary>
    /// The object a deletion removed, stamped with the deletion's revision as its DELETED event carries it. Keyed on
    /// the deletion's own (empty) key value, which belongs to that one event and is never decoded itself.
    /// </summary>
    public static T DecodeDeleted(WatchEvent deletion) => Decoded.GetValue(deletion.Current, _ =>
    {
        var gone = ObjectCodec.Decode<T>(deletion.Previous!);
        gone.Metadata.ResourceVersion = deletion.Revision.ToString(CultureInfo.InvariantCulture);
        return gone;
    });
}
