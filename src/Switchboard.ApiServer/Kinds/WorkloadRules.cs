using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.Kube.Selectors;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// Checks shared by the workload kinds (deployments, replica sets, stateful sets, daemon sets, jobs): a selector that
/// selects the template's labels, and a template whose restartPolicy the kind can run.
/// </summary>
internal static class WorkloadRules
{
    private static readonly string[] AlwaysRestarts = ["Always"];

    /// <summary>
    /// Errors of <paramref name="selector"/>, <paramref name="template"/> and <paramref name="replicas"/> under
    /// <paramref name="path"/> (spec, or spec.jobTemplate.spec), the template's restartPolicy one of
    /// <paramref name="restartPolicies"/> (Always by default).
    /// </summary>
    public static IEnumerable<FieldError> Validate(V1LabelSelector? selector, V1PodTemplateSpec? template, int? replicas, string path = "spec", string[]? restartPolicies = null)
    {
        if (selector is null || ((selector.MatchLabels?.Count ?? 0) == 0 && (selector.MatchExpressions?.Count ?? 0) == 0))
        {
            yield return FieldError.Required(path + ".selector");
        }
        else if (!LabelSelector.Matches(selector, template?.Metadata?.Labels))
        {
            yield return FieldError.Invalid(path + ".template.metadata.labels", new LiteralValue(LabelMap(template?.Metadata?.Labels)), "`selector` does not match template `labels`");
        }

        if (replicas is < 0)
        {
            yield return FieldError.Invalid(path + ".replicas", replicas, "must be greater than or equal to 0");
        }

        foreach (var error in PodSpecRules.Validate(template?.Spec, path + ".template.spec"))
        {
            yield return error;
        }

        restartPolicies ??= AlwaysRestarts;
        if (template?.Spec?.RestartPolicy is { } policy && !restartPolicies.Contains(policy))
        {
            yield return FieldError.NotSupported(path + ".template.spec.restartPolicy", policy, restartPolicies);
        }
    }

    /// <summary>Whether an IntOrString of a rolling update is a count or a whole-number percentage (null: unset).</summary>
    public static bool IsIntOrPercent(string? value) =>
        value is null || (value.EndsWith('%') ? value.Length > 1 && value[..^1].All(char.IsAsciiDigit) : value.Length > 0 && value.All(char.IsAsciiDigit));

    public static string Containers(V1PodTemplateSpec? template) => string.Join(",", template?.Spec?.Containers?.Select(c => c.Name) ?? []);

    public static string Images(V1PodTemplateSpec? template) => string.Join(",", template?.Spec?.Containers?.Select(c => c.Image) ?? []);

    private static string LabelMap(IDictionary<string, string>? labels) =>
        "map[string]string{" + string.Join(", ", (labels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"\"{l.Key}\":\"{l.Value}\"")) + "}";
}
