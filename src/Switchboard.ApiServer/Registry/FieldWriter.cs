using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// Who makes a write, for metadata.managedFields: a manager doing an Update, whose <paramref name="track"/> gives the
/// entries after the write (old object or null for a create, new object, subresource, time), or an Apply, whose
/// managedFields the apply itself computed and the store keeps as given. A write without one (the server's own
/// bootstrap and repairs) leaves managedFields as they were. The tracking itself lives above the registry (Apply).
/// </summary>
internal sealed class FieldWriter(bool isApply, Func<JsonObject?, JsonObject, string?, DateTime, IList<V1ManagedFieldsEntry>?>? track)
{
    public bool IsApply => isApply;

    public IList<V1ManagedFieldsEntry>? Track<T>(T? old, T updated, string? subresource, DateTime now)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        track is null ? updated.Metadata.ManagedFields : track(old is null ? null : ObjectCodec.ToNode(old), ObjectCodec.ToNode(updated), subresource, now);
}
