using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// Events the API server itself reports about an object (as upstream's repair controllers do). A repeat of the same
/// event on the same object raises its count and last timestamp instead of adding one more, as client-go's event
/// correlator does, so a problem reported on every repair run stays one line in <c>kubectl describe</c>.
/// </summary>
internal sealed class EventRecorder(ResourceStore<Corev1Event> events, RegistryContext context, string component)
{
    public async Task WarnAsync(V1Service regarding, string reason, string action, string message, CancellationToken cancellationToken)
    {
        var meta = regarding.Metadata;
        byte[] identity = SHA256.HashData(Encoding.UTF8.GetBytes($"{meta.Uid}\n{reason}\n{message}"));
        string name = $"{meta.Name}.{Convert.ToHexStringLower(identity, 0, 8)}";
        try
        {
            await events.UpdateWithAsync(meta.NamespaceProperty, name, null, existing =>
            {
                var now = context.Now();
                if (existing.InvolvedObject is not null)
                {
                    existing.Count = (existing.Count ?? 1) + 1;
                    existing.LastTimestamp = now;
                    return existing;
                }

                return new Corev1Event
                {
                    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = meta.NamespaceProperty },
                    InvolvedObject = new V1ObjectReference
                    {
                        ApiVersion = "v1",
                        Kind = "Service",
                        Name = meta.Name,
                        NamespaceProperty = meta.NamespaceProperty,
                        Uid = meta.Uid,
                        ResourceVersion = meta.ResourceVersion,
                    },
                    Type = "Warning",
                    Reason = reason,
                    Action = action,
                    Message = message,
                    Source = new V1EventSource { Component = component },
                    ReportingComponent = component,
                    FirstTimestamp = now,
                    LastTimestamp = now,
                    Count = 1,
                };
            }, null, dryRun: false, cancellationToken);
        }
        catch (ApiException e) when (e.Code is 403 or 404)
        {
            // The namespace is going away (or gone): so is the object the event would be about.
        }
    }
}
