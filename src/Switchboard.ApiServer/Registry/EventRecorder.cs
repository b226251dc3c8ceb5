using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.Kube.Events;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// Events the API server itself reports about an object (as upstream's repair controllers do), written through the
/// registry. Repeats are folded by Switchboard.Kube's <see cref="EventCorrelator"/> (client-go's), so a problem
/// reported on every repair run stays one line in <c>kubectl describe</c> with its count rising.
/// </summary>
internal sealed class EventRecorder(ResourceStore<Corev1Event> events, RegistryContext context, string component)
{
    private readonly EventCorrelator _correlator = new(context.Time);
    private readonly EventSource _source = new(component);

    public async Task WarnAsync(V1Service regarding, string reason, string action, string message, CancellationToken cancellationToken)
    {
        var correlation = _correlator.Correlate(_correlator.NewEvent(_source, EventCorrelator.Reference(regarding), "Warning", reason, message, action));
        var e = correlation.Event;
        try
        {
            // A repeat replaces the stored event (same name, count one more); a first one, or one since deleted, is created.
            await events.UpdateWithAsync(e.Metadata.NamespaceProperty, e.Metadata.Name, null, _ => ModelJson.Clone(e), null, dryRun: false, cancellationToken);
        }
        catch (ApiException error) when (error.Code is 403 or 404)
        {
            // The namespace is going away (or gone): so is the object the event would be about.
        }
    }
}
