using k8s.Models;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// pods/binding as kube-apiserver 1.32's BindingREST does it: the target must be a node; only a pod with no node yet,
/// no scheduling gates and no deletion under way takes it, gets the binding's annotations and PodScheduled=True.
/// </summary>
internal static class PodBinding
{
    public static IEnumerable<FieldError> Validate(V1Binding binding)
    {
        if (binding.Target?.Kind is { Length: > 0 } kind && kind != "Node")
        {
            yield return FieldError.NotSupported("target.kind", kind, "Node", "<empty>");
        }

        if (string.IsNullOrEmpty(binding.Target?.Name))
        {
            yield return FieldError.Required("target.name");
        }
    }

    public static void Bind(V1Pod pod, V1Binding binding, DateTime now)
    {
        string name = pod.Metadata.Name;
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            throw Refused(name, $"pod {name} is being deleted, cannot be assigned to a host");
        }

        if (!string.IsNullOrEmpty(pod.Spec.NodeName))
        {
            throw Refused(name, $"pod {name} is already assigned to node \"{pod.Spec.NodeName}\"");
        }

        if (pod.Spec.SchedulingGates is { Count: > 0 })
        {
            throw Refused(name, $"pod {name} has non-empty .spec.schedulingGates");
        }

        pod.Spec.NodeName = binding.Target.Name;
        foreach (var (key, value) in binding.Metadata.Annotations ?? new Dictionary<string, string>())
        {
            pod.Metadata.Annotations ??= new Dictionary<string, string>();
            pod.Metadata.Annotations[key] = value;
        }

        // As podutil.UpdatePodCondition: the condition is replaced in place, keeping its transition time if it was True.
        pod.Status ??= new V1PodStatus();
        pod.Status.Conditions ??= [];
        var conditions = pod.Status.Conditions;
        var old = conditions.FirstOrDefault(c => c.Type == "PodScheduled");
        var scheduled = new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = old?.Status == "True" ? old.LastTransitionTime : now };
        if (old is null)
        {
            conditions.Add(scheduled);
        }
        else
        {
            conditions[conditions.IndexOf(old)] = scheduled;
        }
    }

    private static ApiException Refused(string name, string why) => ApiException.Conflict("pods/binding", name, "", why);
}
