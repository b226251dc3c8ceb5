using System.Text.Json.Nodes;
using Switchboard.ApiServer.Ui;

namespace Switchboard.ApiServer.Tests.Ui;

/// <summary>
/// The web view's trace aggregation: counters per endpoint and per client over the last minute in one-second buckets,
/// sent as what changed; a page's events bounded per flush with the rest counted; DNS queries kept under the Service
/// names they ask about. Events as the proxy and DNS write them (docs/trace.md).
/// </summary>
public sealed class UiFlowsTests
{
    private const long Start = 1_800_000_000;

    [Fact]
    public void Counters_spread_over_endpoints_and_leave_the_totals_a_minute_later()
    {
        var flows = new UiFlows("cluster.local");
        flows.Add(Connection(Start, "10.0.0.1"), Start);
        flows.Add(Connection(Start, "10.0.0.2"), Start);
        flows.Add(Connection(Start + 1, "10.0.0.1"), Start + 1);
        flows.Add(Connection(Start + 1, "10.0.0.1", close: true), Start + 1);

        JsonObject frame = Flow(flows, full: true, budget: 10, Start + 1);
        Assert.Equal(2, (int)frame["totals"]!["10.0.0.1:80"]!);
        Assert.Equal(1, (int)frame["totals"]!["10.0.0.2:80"]!);
        Assert.Equal([Start, Start + 1], frame["seconds"]!.AsArray().Select(s => (long)s![0]!));
        Assert.Equal(4, frame["connections"]!.AsArray().Count);

        // The first second leaves the window: its counts leave the totals, and the edge to the client changes.
        flows.EndFlush();
        flows.Advance(Start + UiFlows.WindowSeconds);
        JsonObject later = Flow(flows, full: false, budget: 10, Start + UiFlows.WindowSeconds);
        Assert.Equal(1, (int)later["totals"]!["10.0.0.1:80"]!);
        Assert.Null(later["totals"]!["10.0.0.2:80"]);
        var edge = Assert.Single(flows.TakeEdgeChanges());
        Assert.Equal(("critical-app", "critical-app/client", 1), (edge.Namespace, (string?)JsonNode.Parse(edge.Json)!["client"], (int)JsonNode.Parse(edge.Json)!["n"]!));
    }

    [Fact]
    public void A_flush_sends_at_most_the_budget_of_events_and_counts_the_rest()
    {
        var flows = new UiFlows("cluster.local");
        for (int i = 0; i < 30; i++)
        {
            flows.Add(Connection(Start, "10.0.0." + (1 + (i % 3))), Start);
        }

        Assert.True(flows.Changed("critical-app/backend"));
        JsonObject frame = Flow(flows, full: false, budget: 5, Start);
        Assert.Equal(5, frame["connections"]!.AsArray().Count);
        Assert.Equal(25, (int)frame["omitted"]!);
        Assert.Equal(30, frame["totals"]!.AsObject().Sum(t => (int)t.Value!));

        // Nothing new after the flush: nothing to send.
        flows.EndFlush();
        Assert.False(flows.Changed("critical-app/backend"));
        Assert.Empty(Flow(flows, full: false, budget: 5, Start)["connections"]!.AsArray());
    }

    [Fact]
    public void Dns_queries_go_to_the_flow_of_the_Service_they_ask_for()
    {
        var flows = new UiFlows("cluster.local");
        flows.Add(Dns(Start, "backend.critical-app.svc.cluster.local."), Start);
        flows.Add(Dns(Start, "backend.default.svc.cluster.local."), Start);
        flows.Add(Dns(Start, "_http._tcp.backend.critical-app.svc.cluster.local."), Start);
        flows.Add(Dns(Start, "_http._tcp.backend.other.svc.cluster.local."), Start);
        flows.Add(Dns(Start, "frontend.critical-app.svc.cluster.local."), Start);

        string[] names = [.. Flow(flows, full: false, budget: 10, Start)["dns"]!.AsArray().Select(d => (string)d!["name"]!)];
        Assert.Equal(["backend.critical-app.svc.cluster.local.", "backend.default.svc.cluster.local.", "_http._tcp.backend.critical-app.svc.cluster.local."], names);
    }

    private static JsonObject Flow(UiFlows flows, bool full, int budget, long now) =>
        JsonNode.Parse(flows.FlowFrame("critical-app/backend", full, budget, now))!.AsObject();

    private static JsonObject Connection(long second, string endpoint, bool close = false) => new()
    {
        ["type"] = "tcp",
        ["event"] = close ? "close" : "open",
        ["time"] = DateTimeOffset.FromUnixTimeSeconds(second).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["client"] = new JsonObject { ["ip"] = "10.0.1.5", ["port"] = 40000, ["pod"] = new JsonObject { ["namespace"] = "critical-app", ["name"] = "client" } },
        ["destination"] = new JsonObject { ["ip"] = "10.96.0.10", ["port"] = 80 },
        ["service"] = new JsonObject { ["namespace"] = "critical-app", ["name"] = "backend" },
        ["endpoint"] = new JsonObject { ["ip"] = endpoint, ["port"] = 80 },
        ["verdict"] = "FORWARDED",
    };

    private static JsonObject Dns(long second, string name) => new()
    {
        ["type"] = "dns",
        ["time"] = DateTimeOffset.FromUnixTimeSeconds(second).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["client"] = new JsonObject { ["ip"] = "10.0.1.5", ["port"] = 5353 },
        ["name"] = name,
        ["qtype"] = "A",
        ["verdict"] = "ANSWERED",
    };
}
