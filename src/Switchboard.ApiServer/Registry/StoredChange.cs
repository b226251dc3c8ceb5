using System.Text.Json;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// What an update changes, judged on the stored JSON before and after it, as upstream compares encoded objects: the
/// order of object keys (labels, say) does not count. A change outside metadata and status is a spec change, which
/// bumps metadata.generation.
/// </summary>
internal enum StoredChange
{
    None,
    MetadataOrStatus,
    Spec,
}

internal static class StoredChanges
{
    public static StoredChange Between(byte[] before, byte[] after)
    {
        if (before.AsSpan().SequenceEqual(after))
        {
            return StoredChange.None;
        }

        using var a = JsonDocument.Parse(before);
        using var b = JsonDocument.Parse(after);
        if (JsonElement.DeepEquals(a.RootElement, b.RootElement))
        {
            return StoredChange.None;
        }

        return SameOutsideMetadataAndStatus(a.RootElement, b.RootElement) ? StoredChange.MetadataOrStatus : StoredChange.Spec;
    }

    private static bool SameOutsideMetadataAndStatus(JsonElement a, JsonElement b)
    {
        static bool Ignored(string name) => name is "metadata" or "status";
        int count = 0;
        foreach (var property in a.EnumerateObject())
        {
            if (Ignored(property.Name))
            {
                continue;
            }

            count++;
            if (!b.TryGetProperty(property.Name, out var other) || !JsonElement.DeepEquals(property.Value, other))
            {
                return false;
            }
        }

        return count == b.EnumerateObject().Count(p => !Ignored(p.Name));
    }
}
