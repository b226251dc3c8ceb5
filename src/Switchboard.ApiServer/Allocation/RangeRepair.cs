using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Selectors;
using Switchboard.Kube.Selectors;

namespace Switchboard.ApiServer.Allocation;

/// <summary>
/// Rebuilds one allocation bitmap from the stored Services, as kube-apiserver's ClusterIP and NodePort repair
/// controllers do. A create takes its slot and then stores its object, two writes: a crash between them leaves a slot
/// held by nothing. Slots used by a service but missing from the bitmap are marked again; slots held but used by no
/// service are released, but only when the next run still finds them unused, so that a create between its two writes
/// is never robbed; a slot two services claim, or one outside the range, is logged and reported as a Warning event.
/// </summary>
internal sealed partial class RangeRepair
{
    // A write between the snapshot and the rebuilt bitmap makes the compare-and-swap fail; a few tries ride out bursts.
    private const int MaxAttempts = 5;

    private readonly RangeAllocator _allocator;
    private readonly ResourceStore<V1Service> _services;
    private readonly RepairSubject _subject;
    private readonly EventRecorder _events;
    private readonly ILogger _logger;

    // Slots held but used by no service at the last run, with the allocator's take count then.
    private Dictionary<int, long> _suspected = [];

    public RangeRepair(RangeAllocator allocator, ResourceStore<V1Service> services, RepairSubject subject, EventRecorder events, ILogger logger)
    {
        _allocator = allocator;
        _services = services;
        _subject = subject;
        _events = events;
        _logger = logger;
    }

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var warnings = await TryRepairAsync(cancellationToken);
            if (warnings is not null)
            {
                foreach (var (service, reason, message) in warnings)
                {
                    await _events.WarnAsync(service, reason, _subject.Action, message, cancellationToken);
                }

                return;
            }

            if (attempt == MaxAttempts)
            {
                throw new InvalidOperationException($"the {_subject.Action} repair kept losing to concurrent allocations ({MaxAttempts} tries)");
            }
        }
    }

    /// <summary>One pass; null when an allocation came in between and the pass must be redone.</summary>
    private async Task<List<(V1Service Service, string Reason, string Message)>?> TryRepairAsync(CancellationToken cancellationToken)
    {
        // The bitmap is read before the services are listed. A slot taken after the read changes the bitmap, so the
        // write below fails and the pass starts again; an object stored after the list took its slot before the read,
        // so its slot merely looks leaked for now.
        var snapshot = await _allocator.SnapshotAsync(cancellationToken);
        var list = await _services.ListAsync(null, LabelSelector.Everything, FieldSelector.Everything, 0, null, 0, cancellationToken);
        var stored = snapshot.Bitmap;
        byte[] rebuilt = _allocator.NewBitmap();
        var warnings = new List<(V1Service, string, string)>();
        foreach (var service in list.Items)
        {
            string name = $"{service.Metadata.NamespaceProperty}/{service.Metadata.Name}";
            foreach (var claim in _subject.Claims(service).Distinct())
            {
                if (claim.Slot is not { } slot)
                {
                    LogOutOfRange(_logger, _subject.Subject, claim.Value, name, _subject.Range);
                    warnings.Add((service, _subject.ReasonPrefix + "OutOfRange", $"{_subject.Subject}{claim.Value} is not within {_subject.Range}; please recreate service"));
                }
                else if (RangeAllocator.IsSet(rebuilt, slot))
                {
                    LogDuplicate(_logger, _subject.Subject, claim.Value, name);
                    warnings.Add((service, _subject.ReasonPrefix + "AlreadyAllocated", $"{_subject.Subject}{claim.Value} was assigned to multiple services; please recreate service"));
                }
                else
                {
                    RangeAllocator.Set(rebuilt, slot, true);
                    if (!RangeAllocator.IsSet(stored, slot))
                    {
                        LogNotAllocated(_logger, _subject.Subject, claim.Value, name);
                        warnings.Add((service, _subject.ReasonPrefix + "NotAllocated", $"{_subject.Subject}{claim.Value} is not allocated; repairing"));
                    }
                }
            }
        }

        var suspected = new Dictionary<int, long>();
        for (int slot = 0; slot < _allocator.Size; slot++)
        {
            if (!RangeAllocator.IsSet(stored, slot) || RangeAllocator.IsSet(rebuilt, slot))
            {
                continue;
            }

            if (_suspected.TryGetValue(slot, out long takes) && !_allocator.TakenSince(slot, takes))
            {
                // Unused for a whole repair interval: a leak, not a create in progress. Left out of the rebuilt bitmap.
                LogReleased(_logger, _subject.Subject, _subject.ValueAt(slot));
                continue;
            }

            LogSuspected(_logger, _subject.Subject, _subject.ValueAt(slot));
            suspected[slot] = snapshot.Takes;
            RangeAllocator.Set(rebuilt, slot, true);
        }

        if (!rebuilt.AsSpan().SequenceEqual(stored) && !await _allocator.TryReplaceAsync(snapshot, rebuilt, cancellationToken))
        {
            return null;
        }

        _suspected = suspected;
        return warnings;
    }

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning, Message = "{Subject}{Value} of service {Service} is not within {Range}; please recreate service")]
    private static partial void LogOutOfRange(ILogger logger, string subject, string value, string service, string range);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "{Subject}{Value} of service {Service} was assigned to multiple services; please recreate service")]
    private static partial void LogDuplicate(ILogger logger, string subject, string value, string service);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Warning, Message = "{Subject}{Value} of service {Service} is not allocated; repairing")]
    private static partial void LogNotAllocated(ILogger logger, string subject, string value, string service);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Warning, Message = "{Subject}{Value} may have leaked (allocated, used by no service): flagging it, released at the next repair if still unused")]
    private static partial void LogSuspected(ILogger logger, string subject, string value);

    [LoggerMessage(EventId = 1024, Level = LogLevel.Warning, Message = "{Subject}{Value} appears to have leaked (unused for a repair interval): released")]
    private static partial void LogReleased(ILogger logger, string subject, string value);
}
