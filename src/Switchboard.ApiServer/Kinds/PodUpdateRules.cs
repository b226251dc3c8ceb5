using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// What an update of a pod may change in its spec, as kube-apiserver 1.32's ValidatePodUpdate: the images of containers
/// and init containers, activeDeadlineSeconds (set, or lowered), tolerations (added, or an existing one's
/// tolerationSeconds), scheduling gates (removed), a gated pod's nodeSelector (keys added) and
/// terminationGracePeriodSeconds (from negative to 1). Anything else is Forbidden, spec.nodeName included: pods/binding
/// sets that.
/// </summary>
internal static class PodUpdateRules
{
    private const string Updatable = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

    /// <summary>Checks the change from <paramref name="old"/> (stored, defaulted) to <paramref name="spec"/> (defaulted).</summary>
    public static IEnumerable<FieldError> Validate(V1PodSpec spec, V1PodSpec old)
    {
        var errors = new List<FieldError>();
        if (!CheckContainers(spec.Containers, old.Containers, "spec.containers", errors)
            || !CheckContainers(spec.InitContainers, old.InitContainers, "spec.initContainers", errors)
            || !CheckActiveDeadline(spec.ActiveDeadlineSeconds, old.ActiveDeadlineSeconds, errors))
        {
            return errors;
        }

        errors.AddRange(OnlyAddedTolerations(spec.Tolerations, old.Tolerations));
        errors.AddRange(OnlyDeletedSchedulingGates(spec.SchedulingGates, old.SchedulingGates));

        var before = SemanticNode(old);
        var munged = SemanticNode(spec);
        if (JsonNode.DeepEquals(before, munged))
        {
            return errors;
        }

        // What may change is taken from the old spec; whatever still differs may not.
        TakeImages(munged, before, "containers");
        TakeImages(munged, before, "initContainers");
        Take(munged, before, "activeDeadlineSeconds");
        Take(munged, before, "schedulingGates");
        Take(munged, before, "tolerations");
        if (old.TerminationGracePeriodSeconds < 0 && spec.TerminationGracePeriodSeconds == 1)
        {
            Take(munged, before, "terminationGracePeriodSeconds");
        }

        if (old.SchedulingGates is { Count: > 0 })
        {
            // A gated pod's placement may still narrow before it is scheduled.
            errors.AddRange(OnlyAddedNodeSelectorKeys(spec.NodeSelector, old.NodeSelector));
            Take(munged, before, "nodeSelector");
        }

        if (!JsonNode.DeepEquals(before, munged))
        {
            errors.Add(FieldError.Forbidden("spec", $"pod updates may not change fields other than {Updatable}\n{Diff(before, munged)}"));
        }

        return errors;
    }

    /// <summary>Containers may not come or go; a changed image must still be one.</summary>
    private static bool CheckContainers(IList<V1Container>? containers, IList<V1Container>? old, string path, List<FieldError> errors)
    {
        if ((containers?.Count ?? 0) != (old?.Count ?? 0))
        {
            errors.Add(FieldError.Forbidden(path, "pod updates may not add or remove containers"));
            return false;
        }

        for (int i = 0; i < (containers?.Count ?? 0); i++)
        {
            string image = containers![i].Image ?? "";
            if (image.Length == 0)
            {
                errors.Add(FieldError.Required($"{path}[{i}].image"));
            }
            else if (image.Trim().Length != image.Length)
            {
                errors.Add(FieldError.Invalid($"{path}[{i}].image", image, "must not have leading or trailing whitespace"));
            }
        }

        return true;
    }

    /// <summary>activeDeadlineSeconds may be set where it was not, or lowered, but never unset.</summary>
    private static bool CheckActiveDeadline(long? deadline, long? old, List<FieldError> errors)
    {
        const string path = "spec.activeDeadlineSeconds";
        if (deadline is { } value)
        {
            if (value is < 0 or > int.MaxValue)
            {
                errors.Add(FieldError.Invalid(path, value, $"must be between 0 and {int.MaxValue}, inclusive"));
                return false;
            }

            if (old < value)
            {
                errors.Add(FieldError.Invalid(path, value, "must be less than or equal to previous value"));
                return false;
            }
        }
        else if (old is not null)
        {
            // Upstream prints the nil pointer as the string "null".
            errors.Add(FieldError.Invalid(path, "null", "must not update from a positive integer to nil value"));
        }

        return true;
    }

    private static IEnumerable<FieldError> OnlyAddedTolerations(IList<V1Toleration>? tolerations, IList<V1Toleration>? old)
    {
        var now = tolerations ?? [];
        return (old ?? []).All(kept => now.Any(t => SameButSeconds(t, kept)))
            ? []
            : [FieldError.Forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")];
    }

    private static bool SameButSeconds(V1Toleration a, V1Toleration b) =>
        (a.Key ?? "") == (b.Key ?? "") && (a.OperatorProperty ?? "") == (b.OperatorProperty ?? "") && (a.Value ?? "") == (b.Value ?? "") && (a.Effect ?? "") == (b.Effect ?? "");

    private static IEnumerable<FieldError> OnlyDeletedSchedulingGates(IList<V1PodSchedulingGate>? gates, IList<V1PodSchedulingGate>? old)
    {
        var before = (old ?? []).Select(g => g.Name ?? "").ToHashSet(StringComparer.Ordinal);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < (gates?.Count ?? 0); i++)
        {
            string name = gates![i].Name ?? "";
            if (!before.Contains(name))
            {
                added[name] = i;
            }
        }

        return added.OrderBy(a => a.Value).Select(a => FieldError.Forbidden($"spec.schedulingGates[{a.Value}].name", $"only deletion is allowed, but found new scheduling gate '{a.Key}'"));
    }

    private static IEnumerable<FieldError> OnlyAddedNodeSelectorKeys(IDictionary<string, string>? selector, IDictionary<string, string>? old)
    {
        var now = selector ?? new Dictionary<string, string>();
        if ((old ?? new Dictionary<string, string>()).All(p => now.TryGetValue(p.Key, out string? value) && value == p.Value))
        {
            return [];
        }

        // Go's %#v of the map, as 1.32's field.Error prints a value of no simpler kind.
        string shown = "map[string]string{" + string.Join(", ", now.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{JsonValue.Create(p.Key).ToJsonString()}:{JsonValue.Create(p.Value).ToJsonString()}")) + "}";
        return [FieldError.Invalid("spec.nodeSelector", new LiteralValue(shown), "only additions to spec.nodeSelector are allowed (no mutations or deletions)")];
    }

    /// <summary>The spec's JSON as upstream's semantic equality compares it: an empty list or map is no list or map.</summary>
    private static JsonObject SemanticNode(V1PodSpec spec) => ModelJson.WithoutEmpty(ModelJson.ToNode(spec)) as JsonObject ?? [];

    private static void Take(JsonObject to, JsonObject from, string key)
    {
        to.Remove(key);
        if (from[key] is { } value)
        {
            to[key] = value.DeepClone();
        }
    }

    private static void TakeImages(JsonObject to, JsonObject from, string key)
    {
        if (to[key] is JsonArray containers && from[key] is JsonArray old)
        {
            for (int i = 0; i < containers.Count; i++)
            {
                if (containers[i] is JsonObject container && old[i] is JsonObject before)
                {
                    Take(container, before, "image");
                }
            }
        }
    }

    /// <summary>
    /// The fields that differ, one pair of lines each in go-cmp's -/+ style. Upstream prints go-cmp's whole Go-syntax
    /// tree, whose exact layout go-cmp keeps unstable on purpose; this names the changed fields by their API paths.
    /// </summary>
    private static string Diff(JsonObject before, JsonObject after)
    {
        var text = new StringBuilder("  core.PodSpec{\n");
        AppendChanges(before, after, "", text);
        return text.Append("  }").ToString();
    }

    private static void AppendChanges(JsonNode? before, JsonNode? after, string path, StringBuilder text)
    {
        if (JsonNode.DeepEquals(before, after))
        {
            return;
        }

        if (before is JsonObject a && after is JsonObject b)
        {
            foreach (string key in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
            {
                AppendChanges(a[key], b[key], path.Length == 0 ? key : $"{path}.{key}", text);
            }

            return;
        }

        if (before is JsonArray x && after is JsonArray y && x.Count == y.Count)
        {
            for (int i = 0; i < x.Count; i++)
            {
                AppendChanges(x[i], y[i], $"{path}[{i}]", text);
            }

            return;
        }

        text.Append("- \t").Append(path).Append(": ").Append(Shown(before, after)).Append(",\n");
        text.Append("+ \t").Append(path).Append(": ").Append(Shown(after, before)).Append(",\n");
    }

    /// <summary>A value as JSON; an absent one as the zero value Go shows for the kind the other side has.</summary>
    private static string Shown(JsonNode? value, JsonNode? other) => value?.ToJsonString() ?? other?.GetValueKind() switch
    {
        JsonValueKind.String => "\"\"",
        JsonValueKind.Number => "0",
        JsonValueKind.True or JsonValueKind.False => "false",
        _ => "nil",
    };
}
