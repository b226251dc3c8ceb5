using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Validation;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// kube-apiserver 1.32's ValidatePodEphemeralContainersUpdate: through pods/ephemeralcontainers, ephemeral containers are
/// only added (an existing one is neither changed nor removed); a new one has a unique DNS-label name and an image,
/// targets an existing container if it names one, and sets none of what a container of the pod's own lifecycle has
/// (ports, probes, lifecycle hooks, resources, a restart policy).
/// </summary>
internal static class EphemeralContainerRules
{
    private const string NotForEphemeral = "cannot be set for an Ephemeral Container";

    public static IEnumerable<FieldError> Validate(V1PodSpec spec, V1PodSpec old)
    {
        var errors = new List<FieldError>();
        var added = spec.EphemeralContainers ?? [];
        var existing = old.EphemeralContainers ?? [];
        foreach (var before in existing)
        {
            int index = added.ToList().FindIndex(c => c.Name == before.Name);
            if (index < 0)
            {
                errors.Add(FieldError.Forbidden("spec.ephemeralContainers", $"existing ephemeral containers \"{before.Name}\" may not be removed"));
            }
            else if (!ModelJson.SameContent(before, added[index]))
            {
                errors.Add(FieldError.Forbidden($"spec.ephemeralContainers[{index}]", $"existing ephemeral containers \"{before.Name}\" may not be changed"));
            }
        }

        var names = new HashSet<string>((spec.Containers ?? []).Concat(spec.InitContainers ?? []).Select(c => c.Name), StringComparer.Ordinal);
        var targets = new HashSet<string>(names, StringComparer.Ordinal);
        for (int i = 0; i < added.Count; i++)
        {
            var container = added[i];
            string at = $"spec.ephemeralContainers[{i}]";
            if (string.IsNullOrEmpty(container.Name))
            {
                errors.Add(FieldError.Required(at + ".name"));
            }
            else
            {
                errors.AddRange(NameValidation.Label(container.Name).Select(m => FieldError.Invalid(at + ".name", container.Name, m)));
                if (!names.Add(container.Name))
                {
                    errors.Add(FieldError.Duplicate(at + ".name", container.Name));
                }
            }

            if (existing.Any(e => e.Name == container.Name))
            {
                continue;
            }

            if (string.IsNullOrEmpty(container.Image))
            {
                errors.Add(FieldError.Required(at + ".image"));
            }

            if (!string.IsNullOrEmpty(container.TargetContainerName) && !targets.Contains(container.TargetContainerName))
            {
                errors.Add(FieldError.NotFound(at + ".targetContainerName", container.TargetContainerName));
            }

            if (container.Ports is { Count: > 0 })
            {
                errors.Add(FieldError.Forbidden(at + ".ports", NotForEphemeral));
            }

            if (container.Lifecycle is not null)
            {
                errors.Add(FieldError.Forbidden(at + ".lifecycle", NotForEphemeral));
            }

            if (container.LivenessProbe is not null)
            {
                errors.Add(FieldError.Forbidden(at + ".livenessProbe", NotForEphemeral));
            }

            if (container.ReadinessProbe is not null)
            {
                errors.Add(FieldError.Forbidden(at + ".readinessProbe", NotForEphemeral));
            }

            if (container.StartupProbe is not null)
            {
                errors.Add(FieldError.Forbidden(at + ".startupProbe", NotForEphemeral));
            }

            if (container.Resources is { } resources && ((resources.Limits?.Count ?? 0) > 0 || (resources.Requests?.Count ?? 0) > 0 || (resources.Claims?.Count ?? 0) > 0))
            {
                errors.Add(FieldError.Forbidden(at + ".resources", NotForEphemeral));
            }

            if (container.RestartPolicy is not null)
            {
                errors.Add(FieldError.Forbidden(at + ".restartPolicy", NotForEphemeral));
            }
        }

        return errors;
    }
}
