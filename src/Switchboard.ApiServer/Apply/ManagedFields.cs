using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.OpenApi;

namespace Switchboard.ApiServer.Apply;

/// <summary>
/// metadata.managedFields as kube-apiserver keeps it (apimachinery's managedfields and structured-merge-diff's
/// merge.Updater): every write records which manager set which fields. An Update (POST, PUT, non-apply PATCH) gives
/// the fields it changed to the writer's Update entry and takes them from everyone else; an Apply (server-side apply)
/// merges the applied configuration, prunes what the applier owned before and no longer applies (unless another
/// manager owns it), and refuses with 409 to change a field another manager owns, unless forced, which takes it.
/// </summary>
internal static class ManagedFields
{
    public const string ApplyOperation = "Apply";
    public const string UpdateOperation = "Update";

    private const string KubectlManager = "kubectl";
    private const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>The result of an apply: the merged object (managedFields set), or unchanged when it changes nothing.</summary>
    public sealed record Applied(JsonObject Object, bool Unchanged);

    /// <summary>
    /// Merges <paramref name="applied"/> into <paramref name="live"/> (null: the apply creates the object) for
    /// <paramref name="manager"/>, or throws the 409 conflict kube-apiserver answers.
    /// </summary>
    public static Applied Apply(JsonObject? live, JsonObject applied, ModelShape shape, string manager, bool force, string apiVersion, string? subresource, DateTime now)
    {
        bool status = subresource == "status";
        var config = applied.DeepClone().AsObject();
        if (!status)
        {
            config.Remove("status");
        }

        var appliedSet = FieldSet.Of(config, shape, includeStatus: status);
        var baseObject = live ?? new JsonObject();
        var entries = Read(baseObject);
        var previous = entries.FirstOrDefault(e => e.Manager == manager && e.Operation == ApplyOperation && e.Subresource == subresource);
        var others = entries.Where(e => e != previous).ToList();

        var merged = ObjectFields.Merge(WithoutManagedFields(baseObject), config, shape);
        if (previous is not null)
        {
            foreach (var path in previous.Fields.Except(appliedSet).Paths)
            {
                if (!others.Any(o => o.Fields.Contains(path)))
                {
                    ObjectFields.Remove(merged, path);
                }
            }
        }

        var conflicts = new List<(Entry Owner, FieldPath Path)>();
        foreach (var other in others)
        {
            foreach (var path in other.Fields.Intersect(appliedSet).Paths)
            {
                if (Changed(baseObject, merged, path))
                {
                    conflicts.Add((other, path));
                }
            }
        }

        if (conflicts.Count > 0 && !force)
        {
            // kubectl's first server-side apply of what it applied client-side before takes the fields its
            // last-applied annotation still describes (apimachinery's lastAppliedManager); any other conflict stands.
            var allowed = manager == KubectlManager ? LastAppliedFields(baseObject, shape) : FieldSet.Empty;
            var refused = conflicts.Where(c => !allowed.Contains(c.Path)).ToList();
            if (refused.Count > 0)
            {
                throw Conflict(refused);
            }
        }

        var result = new List<Entry>();
        foreach (var other in others)
        {
            var taken = new FieldSet(conflicts.Where(c => c.Owner == other).Select(c => c.Path));
            var kept = taken.Count == 0 ? other : other with { Fields = other.Fields.Except(taken) };
            if (kept.Fields.Count > 0)
            {
                result.Add(kept);
            }
        }

        bool sameObject = live is not null && JsonNode.DeepEquals(WithoutManagedFields(live), merged);
        bool sameSet = previous is not null && previous.Fields.Count == appliedSet.Count && previous.Fields.Except(appliedSet).Count == 0 && conflicts.Count == 0;
        if (sameObject && sameSet)
        {
            return new Applied(live!, Unchanged: true);
        }

        if (appliedSet.Count > 0)
        {
            result.Add(new Entry(manager, ApplyOperation, apiVersion, Truncate(now), subresource, appliedSet));
        }

        if (manager == KubectlManager && baseObject["metadata"]?["annotations"]?[LastAppliedAnnotation] is not null)
        {
            // Keeps the annotation true for a later client-side apply (apimachinery's lastAppliedUpdater).
            var lastApplied = config.DeepClone().AsObject();
            (lastApplied["metadata"]?["annotations"] as JsonObject)?.Remove(LastAppliedAnnotation);
            var annotations = merged["metadata"]?["annotations"] as JsonObject;
            if (annotations is not null)
            {
                annotations[LastAppliedAnnotation] = lastApplied.ToJsonString() + "\n";
            }
        }

        Write(merged, result);
        return new Applied(merged, Unchanged: false);
    }

    /// <summary>
    /// The fields of the live object's last-applied-configuration annotation that still hold the values it gives:
    /// what kubectl owned through client-side apply.
    /// </summary>
    private static FieldSet LastAppliedFields(JsonObject live, ModelShape shape)
    {
        if (live["metadata"]?["annotations"]?[LastAppliedAnnotation]?.ToString() is not { Length: > 0 } text)
        {
            return FieldSet.Empty;
        }

        JsonObject? lastApplied;
        try
        {
            lastApplied = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return FieldSet.Empty;
        }

        if (lastApplied is null || lastApplied["apiVersion"]?.ToString() != live["apiVersion"]?.ToString())
        {
            return FieldSet.Empty;
        }

        var fields = FieldSet.Of(lastApplied, shape, includeStatus: false);
        return new FieldSet(fields.Paths.Where(p => !Changed(lastApplied, live, p)));
    }

    /// <summary>
    /// The managedFields after a non-apply write by <paramref name="manager"/> from <paramref name="old"/> (null:
    /// a create) to <paramref name="updated"/>: what it added or changed becomes its own, what it removed leaves
    /// every manager. An existing object nobody tracks (no managedFields) stays untracked, as upstream.
    /// </summary>
    public static IList<V1ManagedFieldsEntry>? Update(JsonObject? old, JsonObject updated, ModelShape shape, string manager, string apiVersion, string? subresource, DateTime now)
    {
        // managedFields the writer sent, when they differ from the stored ones, replace them (kubectl's upgrade from
        // client-side apply rewrites them with a JSON patch; [{}] resets them), as upstream outside subresources.
        var stored = old?["metadata"]?["managedFields"];
        var given = updated["metadata"]?["managedFields"];
        var current = old is not null && subresource is null && given is JsonArray && !JsonNode.DeepEquals(given, stored) ? updated : old;
        var entries = current is null ? [] : Read(current).Where(e => e.Manager.Length > 0 || e.Fields.Count > 0).ToList();
        if (old is not null && entries.Count == 0)
        {
            return null;
        }

        // Only a field whose whole value differs can hold fields that changed or went: each top-level field, and each
        // field of metadata, is compared whole first, and the fields of the equal ones are never listed (a pod's status
        // write leaves its spec, most of its fields, as it was).
        bool status = subresource == "status";
        Func<string, bool>? differing = old is null ? null : DifferingFields(old, updated).Contains;
        var before = old is null ? FieldSet.Empty : FieldSet.Of(old, shape, status, out _, differing);
        var after = FieldSet.Of(updated, shape, status, out var maps, differing);
        var changed = new FieldSet(after.Paths.Where(p => !before.Contains(p) || Changed(old, updated, p))
            .Concat(maps.Where(m => !ObjectFields.At(old, m).Found)));
        var removed = before.Except(after);
        if (changed.Count == 0 && removed.Count == 0)
        {
            return current?["metadata"]?["managedFields"] is { } unchanged ? Entries(unchanged) : null;
        }

        var taken = changed.Union(removed);
        var result = new List<Entry>();
        Entry? mine = null;
        foreach (var entry in entries)
        {
            if (entry.Manager == manager && entry.Operation == UpdateOperation && entry.ApiVersion == apiVersion && entry.Subresource == subresource)
            {
                mine = entry;
                continue;
            }

            var kept = entry with { Fields = entry.Fields.Except(taken) };
            if (kept.Fields.Count > 0)
            {
                result.Add(kept);
            }
        }

        var own = (mine?.Fields ?? FieldSet.Empty).Except(removed).Union(changed);
        if (own.Count > 0)
        {
            result.Add(new Entry(manager, UpdateOperation, apiVersion, Truncate(now), subresource, own));
        }

        return result.Count == 0 ? null : Sorted(result).Select(ToModel).ToList();
    }

    /// <summary>
    /// The manager of a non-apply write: the fieldManager parameter, else the User-Agent up to its first '/', else
    /// "unknown" (apiserver's handlers/create.go).
    /// </summary>
    public static string UpdateManager(string? fieldManager, string? userAgent)
    {
        if (!string.IsNullOrEmpty(fieldManager))
        {
            return fieldManager;
        }

        string agent = (userAgent ?? "").Split('/')[0].Trim();
        return agent.Length > 0 ? agent : "unknown";
    }

    /// <summary>
    /// The top-level fields, and the fields of metadata (as "metadata/NAME"), whose value differs between
    /// <paramref name="old"/> and <paramref name="updated"/>, each compared once.
    /// </summary>
    private static HashSet<string> DifferingFields(JsonObject old, JsonObject updated)
    {
        var differing = new HashSet<string>(StringComparer.Ordinal);
        void Compare(JsonObject? a, JsonObject? b, string prefix)
        {
            foreach (string name in (a?.Select(p => p.Key) ?? []).Union(b?.Select(p => p.Key) ?? []))
            {
                if (!JsonNode.DeepEquals(a?[name], b?[name]))
                {
                    differing.Add(prefix + name);
                }
            }
        }

        Compare(old, updated, "");
        Compare(old["metadata"] as JsonObject, updated["metadata"] as JsonObject, "metadata/");
        return differing;
    }

    private static bool Changed(JsonNode? before, JsonNode after, FieldPath path)
    {
        var (wasThere, oldValue) = ObjectFields.At(before, path);
        var (isThere, newValue) = ObjectFields.At(after, path);
        if (wasThere != isThere)
        {
            return true;
        }

        // A list item's own entry is its presence; its fields are paths of their own.
        return path.Elements.Length > 0 && path.Elements[^1][0] is 'k' or 'v' ? false : !JsonNode.DeepEquals(oldValue, newValue);
    }

    private static ApiException Conflict(List<(Entry Owner, FieldPath Path)> conflicts)
    {
        var byOwner = conflicts.GroupBy(c => c.Owner).OrderBy(g => Describe(g.Key), StringComparer.Ordinal).ToList();
        string message;
        if (conflicts.Count == 1)
        {
            message = $"Apply failed with 1 conflict: conflict with {Describe(conflicts[0].Owner)}: {conflicts[0].Path}";
        }
        else
        {
            message = $"Apply failed with {conflicts.Count} conflicts: " + string.Join("\n", byOwner.Select(g =>
                $"conflicts with {Describe(g.Key)}:\n" + string.Join("\n", g.Select(c => "- " + c.Path))));
        }

        var causes = conflicts.Select(c => new V1StatusCause { Reason = "FieldManagerConflict", Message = $"conflict with {Describe(c.Owner)}", Field = c.Path.ToString() }).ToList();
        return ApiException.ApplyConflict(message, causes);
    }

    private static string Describe(Entry entry)
    {
        string text = entry.Operation == ApplyOperation ? $"\"{entry.Manager}\"" : $"\"{entry.Manager}\" using {entry.ApiVersion}";
        return entry.Subresource is { Length: > 0 } sub ? $"{text} with subresource \"{sub}\"" : text;
    }

    private static JsonObject WithoutManagedFields(JsonObject obj)
    {
        var copy = obj.DeepClone().AsObject();
        (copy["metadata"] as JsonObject)?.Remove("managedFields");
        return copy;
    }

    private static List<Entry> Read(JsonObject obj)
    {
        if (obj["metadata"]?["managedFields"] is not JsonArray list)
        {
            return [];
        }

        return [.. list.OfType<JsonObject>().Select(e => new Entry(
            e["manager"]?.ToString() ?? "",
            e["operation"]?.ToString() ?? "",
            e["apiVersion"]?.ToString(),
            e["time"] is JsonValue t && DateTime.TryParse(t.ToString(), null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var time) ? time : null,
            e["subresource"]?.ToString() is { Length: > 0 } s ? s : null,
            FieldSet.FromFieldsV1(e["fieldsV1"])))];
    }

    private static void Write(JsonObject obj, List<Entry> entries)
    {
        var meta = obj["metadata"] as JsonObject ?? (JsonObject)(obj["metadata"] = new JsonObject());
        meta["managedFields"] = entries.Count == 0 ? null : Kube.Serialization.ModelJson.ToNode<IList<V1ManagedFieldsEntry>>([.. Sorted(entries).Select(ToModel)]);
    }

    private static IList<V1ManagedFieldsEntry> Entries(JsonNode node) =>
        Kube.Serialization.ModelJson.FromNode<IList<V1ManagedFieldsEntry>>(node) ?? [];

    private static IEnumerable<Entry> Sorted(IEnumerable<Entry> entries) => entries
        .OrderBy(e => e.Operation == ApplyOperation ? 0 : 1)
        .ThenBy(e => e.Time)
        .ThenBy(e => e.Manager, StringComparer.Ordinal)
        .ThenBy(e => e.ApiVersion, StringComparer.Ordinal)
        .ThenBy(e => e.Subresource, StringComparer.Ordinal);

    private static V1ManagedFieldsEntry ToModel(Entry entry) => new()
    {
        Manager = entry.Manager,
        Operation = entry.Operation,
        ApiVersion = entry.ApiVersion,
        Time = entry.Time,
        FieldsType = "FieldsV1",
        FieldsV1 = entry.Fields.ToFieldsV1(),
        Subresource = entry.Subresource,
    };

    private static DateTime Truncate(DateTime time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    private sealed record Entry(string Manager, string Operation, string? ApiVersion, DateTime? Time, string? Subresource, FieldSet Fields);
}
