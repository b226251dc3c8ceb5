using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Validation;

namespace Switchboard.ApiServer.Kinds;

/// <summary>Defaults and checks of a PodSpec, shared by pods and the templates of deployments and replica sets.</summary>
internal static class PodSpecRules
{
    public static void Default(V1PodSpec spec)
    {
        spec.RestartPolicy ??= "Always";
        spec.DnsPolicy ??= "ClusterFirst";
        spec.TerminationGracePeriodSeconds ??= 30;
        spec.SchedulerName ??= "default-scheduler";
        spec.SecurityContext ??= new V1PodSecurityContext();
        foreach (var container in (spec.Containers ?? []).Concat(spec.InitContainers ?? []))
        {
            string image = container.Image ?? "";
            string tag = image.Contains('@', StringComparison.Ordinal) ? "digest" : image.LastIndexOf(':') > image.LastIndexOf('/') ? image[(image.LastIndexOf(':') + 1)..] : "";
            container.ImagePullPolicy ??= tag is "" or "latest" ? "Always" : "IfNotPresent";
            container.TerminationMessagePath ??= "/dev/termination-log";
            container.TerminationMessagePolicy ??= "File";
            foreach (var port in container.Ports ?? [])
            {
                port.Protocol ??= "TCP";
            }
        }
    }

    public static IEnumerable<FieldError> Validate(V1PodSpec? spec, string path)
    {
        if (spec?.Containers is null || spec.Containers.Count == 0)
        {
            yield return FieldError.Required(path + ".containers");
            yield break;
        }

        var names = new HashSet<string>();
        for (int i = 0; i < spec.Containers.Count; i++)
        {
            var container = spec.Containers[i];
            string at = $"{path}.containers[{i}]";
            if (string.IsNullOrEmpty(container.Name))
            {
                yield return FieldError.Required(at + ".name");
            }
            else
            {
                foreach (string message in NameValidation.Label(container.Name))
                {
                    yield return FieldError.Invalid(at + ".name", container.Name, message);
                }

                if (!names.Add(container.Name))
                {
                    yield return FieldError.Duplicate(at + ".name", container.Name);
                }
            }

            if (string.IsNullOrEmpty(container.Image))
            {
                yield return FieldError.Required(at + ".image");
            }

            for (int p = 0; p < (container.Ports?.Count ?? 0); p++)
            {
                var port = container.Ports![p];
                if (port.ContainerPort is < 1 or > 65535)
                {
                    yield return FieldError.Invalid($"{at}.ports[{p}].containerPort", port.ContainerPort, "must be between 1 and 65535, inclusive");
                }

                if (port.Protocol is not ("TCP" or "UDP" or "SCTP"))
                {
                    yield return FieldError.NotSupported($"{at}.ports[{p}].protocol", port.Protocol, "SCTP", "TCP", "UDP");
                }
            }
        }

        if (spec.RestartPolicy is not ("Always" or "OnFailure" or "Never"))
        {
            yield return FieldError.NotSupported(path + ".restartPolicy", spec.RestartPolicy, "Always", "Never", "OnFailure");
        }
    }
}
