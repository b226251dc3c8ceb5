using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.Kube.Selectors;

namespace Switchboard.ApiServer.Kinds;

/// <summary>Checks shared by deployments and replica sets: a selector that selects the template's labels.</summary>
internal static class WorkloadRules
{
    public static IEnumerable<FieldError> Validate(V1LabelSelector? selector, V1PodTemplateSpec? template, int? replicas)
    {
        if (selector is null || ((selector.MatchLabels?.Count ?? 0) == 0 && (selector.MatchExpressions?.Count ?? 0) == 0))
        {
            yield return FieldError.Required("spec.selector");
        }
        else if (!LabelSelector.Matches(selector, template?.Metadata?.Labels))
        {
            yield return FieldError.Invalid("spec.template.metadata.labels", new LiteralValue(LabelMap(template?.Metadata?.Labels)), "`selector` does not match template `labels`");
        }

        if (replicas is < 0)
        {
            yield return FieldError.Invalid("spec.replicas", replicas, "must be greater than or equal to 0");
        }

        foreach (var error in PodSpecRules.Validate(template?.Spec, "spec.template.spec"))
        {
            yield return error;
        }

        if (template?.Spec?.RestartPolicy is { } policy and not "Always")
        {
            yield return FieldError.NotSupported("spec.template.spec.restartPolicy", policy, "Always");
        }
    }

    public static string Containers(V1PodTemplateSpec? template) => string.Join(",", template?.Spec?.Containers?.Select(c => c.Name) ?? []);

    public static string Images(V1PodTemplateSpec? template) => string.Join(",", template?.Spec?.Containers?.Select(c => c.Image) ?? []);

    private static string LabelMap(IDictionary<string, string>? labels) =>
        "map[string]string{" + string.Join(", ", (labels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"\"{l.Key}\":\"{l.Value}\"")) + "}";
}
