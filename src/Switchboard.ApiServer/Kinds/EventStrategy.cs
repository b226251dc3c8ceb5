using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>core/v1 Events, selectable by involvedObject for kubectl describe.</summary>
internal sealed class EventStrategy : ResourceStrategy<Corev1Event>
{
    private static readonly IReadOnlyList<TableColumn<Corev1Event>> Table =
    [
        new("Last Seen", "string", 0, (e, now) => Columns.Age(e.LastTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp, now), "", "Time when last event occurred"),
        new("Type", "string", 0, (e, _) => e.Type, "", "Type of this event (Normal, Warning), new types could be added in the future."),
        new("Reason", "string", 0, (e, _) => e.Reason, "", "Reason why action was taken. It is human-readable."),
        new("Object", "string", 0, (e, _) => $"{e.InvolvedObject?.Kind?.ToLowerInvariant()}/{e.InvolvedObject?.Name}", "", "The object that this event is about."),
        new("Subobject", "string", 1, (e, _) => e.InvolvedObject?.FieldPath ?? "", "", "The subobject that this event is about."),
        new("Source", "string", 1, (e, _) => e.Source?.Component ?? e.ReportingComponent ?? "", "", "The component reporting this event."),
        new("Message", "string", 0, (e, _) => e.Message, "", "A human-readable description of the status of this operation."),
        new("First Seen", "string", 1, (e, now) => Columns.Age(e.FirstTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp, now), "", "Time when first event occurred"),
        new("Count", "string", 1, (e, _) => (e.Count ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "", "Number of times this event has occurred"),
        new("Name", "string", 1, (e, _) => e.Metadata.Name, "name", "Name of the event"),
    ];

    public override IReadOnlyList<TableColumn<Corev1Event>> TableColumns => Table;

    public override IReadOnlyDictionary<string, Func<Corev1Event, string?>> SelectableFields { get; } = new Dictionary<string, Func<Corev1Event, string?>>
    {
        ["involvedObject.kind"] = e => e.InvolvedObject?.Kind,
        ["involvedObject.namespace"] = e => e.InvolvedObject?.NamespaceProperty,
        ["involvedObject.name"] = e => e.InvolvedObject?.Name,
        ["involvedObject.uid"] = e => e.InvolvedObject?.Uid,
        ["involvedObject.apiVersion"] = e => e.InvolvedObject?.ApiVersion,
        ["involvedObject.resourceVersion"] = e => e.InvolvedObject?.ResourceVersion,
        ["involvedObject.fieldPath"] = e => e.InvolvedObject?.FieldPath,
        ["reason"] = e => e.Reason,
        ["reportingComponent"] = e => e.ReportingComponent,
        ["source"] = e => e.Source?.Component,
        ["type"] = e => e.Type,
    };

    public override IEnumerable<FieldError> Validate(Corev1Event obj)
    {
        if (obj.InvolvedObject is null)
        {
            yield return FieldError.Required("involvedObject");
        }
        else if (!string.IsNullOrEmpty(obj.InvolvedObject.NamespaceProperty) && obj.InvolvedObject.NamespaceProperty != obj.Metadata.NamespaceProperty)
        {
            yield return FieldError.Invalid("involvedObject.namespace", obj.InvolvedObject.NamespaceProperty, "does not match event.namespace");
        }

        if (obj.Type is { } type and not ("Normal" or "Warning"))
        {
            yield return FieldError.NotSupported("type", type, "Normal", "Warning");
        }
    }
}
