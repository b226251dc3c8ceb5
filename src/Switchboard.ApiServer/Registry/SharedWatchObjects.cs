using System.Globalization;
using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// Decoded objects shared by every watch that sees the same stored change: the store hands each subscriber the same
/// <see cref="WatchEvent"/>, so N watchers of a kind (every node watching pods, say) decode a change once instead of N
/// times, and what is written from the one object can be shared too. Shared objects are read-only. They are keyed on
/// the event, which lives only while watches still have it to send, not on its <see cref="KeyValue"/>, which the store
/// keeps for as long as it is the key's value: keyed there, every live object stayed decoded (and its watch lines
/// encoded) for the life of the object, 10,000 services' worth of copies that no watch was sending.
/// </summary>
internal static class SharedWatchObjects<T>
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private static readonly ConditionalWeakTable<WatchEvent, T> Current = new();
    private static readonly ConditionalWeakTable<WatchEvent, T> Previous = new();

    /// <summary>The object as the change left it.</summary>
    public static T Decode(WatchEvent change) => Current.GetValue(change, c => ObjectCodec.Decode<T>(c.Current));

    /// <summary>The object as it was before the change (an update's old version, for selectors).</summary>
    public static T DecodePrevious(WatchEvent change) => Previous.GetValue(change, c => ObjectCodec.Decode<T>(c.Previous!));

    /// <summary>The object a deletion removed, stamped with the deletion's revision as its DELETED event carries it.</summary>
    public static T DecodeDeleted(WatchEvent deletion) => Current.GetValue(deletion, d =>
    {
        var gone = ObjectCodec.Decode<T>(d.Previous!);
        gone.Metadata.ResourceVersion = d.Revision.ToString(CultureInfo.InvariantCulture);
        return gone;
    });
}
