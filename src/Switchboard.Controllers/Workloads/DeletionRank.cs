using k8s.Models;
using Switchboard.Controllers.Shared;

namespace Switchboard.Controllers.Workloads;

/// <summary>Which surplus pods go first (upstream's ActivePods ordering): unscheduled, then pending, then not ready.</summary>
internal static class DeletionRank
{
    public static int Of(V1Pod pod)
    {
        if (string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            return 0;
        }

        return pod.Status?.Phase switch
        {
            "Pending" => 1,
            "Unknown" => 2,
            _ => Objects.IsReady(pod) ? 4 : 3,
        };
    }
}
