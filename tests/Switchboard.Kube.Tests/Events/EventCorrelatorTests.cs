using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Kube.Events;

namespace Switchboard.Kube.Tests.Events;

public sealed class EventCorrelatorTests
{
    private static readonly EventSource Controller = new("deployment-controller");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private readonly EventCorrelator _correlator;

    public EventCorrelatorTests() => _correlator = new EventCorrelator(_time);

    private static V1ObjectReference Backend { get; } = EventCorrelator.Reference(new V1Deployment
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = new V1ObjectMeta { Name = "backend", NamespaceProperty = "critical-app", Uid = "u-1" },
    });

    private EventCorrelation Record(string message, EventSource? source = null, string reason = "ScalingReplicaSet") =>
        _correlator.Correlate(_correlator.NewEvent(source ?? Controller, Backend, "Normal", reason, message));

    [Fact]
    public void A_first_event_is_created_named_after_its_object_with_count_one()
    {
        var first = Record("Scaled up replica set backend-1 to 3");

        Assert.False(first.UpdatesExisting);
        Assert.StartsWith("backend.", first.Event.Metadata.Name, StringComparison.Ordinal);
        Assert.Equal(("critical-app", 1, "deployment-controller", "deployment-controller"), (first.Event.Metadata.NamespaceProperty, first.Event.Count, first.Event.Source.Component, first.Event.ReportingComponent));
        Assert.Equal(_time.GetUtcNow().UtcDateTime, first.Event.FirstTimestamp);
    }

    [Fact]
    public void A_repeat_updates_the_first_event_keeping_its_name_and_first_timestamp()
    {
        var first = Record("Scaled up replica set backend-1 to 3");
        _time.Advance(TimeSpan.FromSeconds(30));
        var repeat = Record("Scaled up replica set backend-1 to 3");

        Assert.True(repeat.UpdatesExisting);
        Assert.Equal((first.Event.Metadata.Name, 2, first.Event.FirstTimestamp), (repeat.Event.Metadata.Name, repeat.Event.Count, repeat.Event.FirstTimestamp));
        Assert.Equal(_time.GetUtcNow().UtcDateTime, repeat.Event.LastTimestamp);
        Assert.Equal(["count", "lastTimestamp", "message"], repeat.Patch.Select(p => p.Key));
        Assert.Equal(2, (int)repeat.Patch["count"]!);
    }

    [Fact]
    public void Another_message_another_host_or_another_reason_is_another_event()
    {
        var first = Record("Scaled up replica set backend-1 to 3");
        var others = new[]
        {
            Record("Scaled down replica set backend-1 to 2"),
            Record("Scaled up replica set backend-1 to 3", new EventSource("deployment-controller", "node-1")),
            Record("Scaled up replica set backend-1 to 3", reason: "DeploymentRollback"),
        };

        Assert.All(others, o => Assert.False(o.UpdatesExisting));
        Assert.Equal(4, others.Select(o => o.Event.Metadata.Name).Append(first.Event.Metadata.Name).Distinct().Count());
    }

    [Fact]
    public void Events_recorded_at_the_same_instant_get_distinct_names()
    {
        var names = Enumerable.Range(0, 5).Select(i => Record($"message {i}").Event.Metadata.Name).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void The_tenth_distinct_message_of_a_reason_within_ten_minutes_starts_one_combined_event_that_counts_the_rest()
    {
        var separate = Enumerable.Range(1, EventCorrelator.MaxSimilarEvents - 1).Select(i => Record($"Scaled to {i}")).ToList();
        var combined = Record("Scaled to 10");
        var more = Record("Scaled to 11");

        Assert.All(separate, e => Assert.False(e.UpdatesExisting));
        Assert.False(combined.UpdatesExisting);
        Assert.Equal("(combined from similar events): Scaled to 10", combined.Event.Message);
        Assert.True(more.UpdatesExisting);
        Assert.Equal((combined.Event.Metadata.Name, 2, "(combined from similar events): Scaled to 11"), (more.Event.Metadata.Name, more.Event.Count, more.Event.Message));
    }

    [Fact]
    public void Similar_messages_further_apart_than_the_window_are_not_combined()
    {
        foreach (int i in Enumerable.Range(1, EventCorrelator.MaxSimilarEvents - 1))
        {
            Record($"Scaled to {i}");
        }

        _time.Advance(EventCorrelator.AggregationWindow + TimeSpan.FromSeconds(1));
        var late = Record("Scaled to 10");

        Assert.Equal("Scaled to 10", late.Event.Message);
    }

    [Fact]
    public void An_event_about_a_cluster_scoped_object_goes_to_the_default_namespace()
    {
        var node = EventCorrelator.Reference(new V1Node { ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = "node-1", Uid = "n-1" } });

        var e = _correlator.NewEvent(new EventSource("kubelet", "node-1"), node, "Normal", "Starting", "Starting kubelet.");

        Assert.Equal(("default", "node-1", "node-1"), (e.Metadata.NamespaceProperty, e.Source.Host, e.ReportingInstance));
    }
}
