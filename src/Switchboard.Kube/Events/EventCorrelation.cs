using System.Text.Json.Nodes;
using k8s.Models;
using Switchboard.Kube.Serialization;

namespace Switchboard.Kube.Events;

/// <summary>
/// What to write for one recorded event: <see cref="Event"/> as it should now be stored, and whether an event of that
/// name was written before (then <see cref="Patch"/> updates it; if it has gone, <see cref="Event"/> is created anew).
/// </summary>
public sealed record EventCorrelation(Corev1Event Event, bool UpdatesExisting)
{
    /// <summary>The merge patch from the stored event to <see cref="Event"/>: what a repeat changes, as client-go's two-way patch.</summary>
    public JsonObject Patch => new()
    {
        ["count"] = Event.Count,
        ["lastTimestamp"] = ModelJson.ToNode(Event.LastTimestamp),
        ["message"] = Event.Message,
    };
}
