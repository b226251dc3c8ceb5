using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchboard.ApiServer.Ui;

/// <summary>
/// The trace as the web view shows it, aggregated once for all pages: per Service, the connections of the last minute
/// per endpoint (the flow's counters) and per client (the service map's edges), kept in per-second buckets (the flow's
/// chart), and its last connections and DNS queries themselves. Pages are sent what changed for the Service each shows
/// (<see cref="FlowFrame"/>) and the edges that changed (<see cref="TakeEdgeChanges"/>), never every event: at 1,000
/// connections a second that is a few hundred bytes per page per flush instead of every event to every page, which is
/// what kept a page busy parsing and re-filtering a minute of events on every frame until it fell behind. Not thread
/// safe: the hub calls it under its lock.
/// </summary>
internal sealed class UiFlows
{
    /// <summary>The window the counters and the map weigh, in one-second buckets.</summary>
    public const int WindowSeconds = 60;

    /// <summary>How many connections and DNS queries of a Service a page gets when it starts showing it.</summary>
    public const int RecentEvents = 200;

    private readonly Dictionary<string, ServiceFlow> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DnsQueries> _dns = new(StringComparer.Ordinal);
    private readonly HashSet<string> _freshDns = new(StringComparer.Ordinal);
    private readonly string _svcSuffix;

    public UiFlows(string clusterDomain) => _svcSuffix = ".svc." + clusterDomain.TrimEnd('.') + ".";

    /// <summary>Counts one annotated trace event (a connection step or a DNS answer) at <paramref name="now"/> (Unix seconds).</summary>
    public void Add(JsonObject e, long now)
    {
        long second = DateTimeOffset.TryParse((string?)e["time"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at)
            ? Math.Min(at.ToUnixTimeSeconds(), now)
            : now;
        if (second <= now - WindowSeconds)
        {
            return;
        }

        string? type = (string?)e["type"];
        if (type == "dns")
        {
            AddDns(e, second);
            return;
        }

        if (type is not ("tcp" or "udp" or "sctp") || e["service"] is not JsonObject service
            || (string?)service["namespace"] is not { } ns || (string?)service["name"] is not { } name)
        {
            return;
        }

        string key = ns + "/" + name;
        if (!_services.TryGetValue(key, out ServiceFlow? flow))
        {
            _services[key] = flow = new ServiceFlow(ns);
        }

        flow.Recent.Add(e.ToJsonString(), second);
        if ((string?)e["event"] != "close")
        {
            // An open (or a refusal): what the counters, the chart and the map weigh, as `statistic --mode random` spreads it.
            if (Address(e["endpoint"]) is { } endpoint)
            {
                flow.Endpoints.Add(endpoint, second);
            }

            flow.Clients.Add(Client(e["client"]), second);
        }
    }

    /// <summary>
    /// Drops what left the window: the buckets (the counts they held leave the totals, and are sent as changes), the
    /// events, and the Services and names left with nothing.
    /// </summary>
    public void Advance(long now)
    {
        foreach ((string key, ServiceFlow flow) in _services)
        {
            flow.Endpoints.Advance(now);
            flow.Clients.Advance(now);
            flow.Recent.Prune(now - WindowSeconds);
            if (flow.Recent.Count == 0 && flow.Endpoints.Totals.Count == 0 && flow.Clients.Totals.Count == 0 && !flow.Endpoints.HasChanges && !flow.Clients.HasChanges)
            {
                _services.Remove(key);
            }
        }

        foreach ((string label, DnsQueries queries) in _dns)
        {
            queries.Recent.Prune(now - WindowSeconds);
            if (queries.Recent.Count == 0)
            {
                _dns.Remove(label);
            }
        }
    }

    /// <summary>
    /// The <c>flow</c> frame of Service <paramref name="key"/>: totals per endpoint, the per-second buckets that changed
    /// (all of them when <paramref name="full"/>), and at most <paramref name="budget"/> of its newest connections and DNS
    /// queries since the last <see cref="EndFlush"/> (or of those kept, when full); <c>omitted</c> counts the rest,
    /// which the counters still include.
    /// </summary>
    public string FlowFrame(string key, bool full, int budget, long now)
    {
        _services.TryGetValue(key, out ServiceFlow? flow);
        string name = key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..];
        string ns = key[..key.IndexOf('/', StringComparison.Ordinal)];
        var json = new StringBuilder(1024);
        json.Append("{\"service\":").Append(JsonValue.Create(key).ToJsonString())
            .Append(",\"now\":").Append(now.ToString(CultureInfo.InvariantCulture))
            .Append(",\"full\":").Append(full ? "true" : "false")
            .Append(",\"totals\":");
        Counts(json, flow?.Endpoints.Totals);
        json.Append(",\"seconds\":[");
        bool first = true;
        foreach ((long second, Dictionary<string, int> counts) in flow?.Endpoints.Buckets(full) ?? [])
        {
            json.Append(first ? "" : ",").Append('[').Append(second.ToString(CultureInfo.InvariantCulture)).Append(',');
            Counts(json, counts);
            json.Append(']');
            first = false;
        }

        json.Append("],\"connections\":[");
        int omitted = Append(json, flow?.Recent.Items(full), budget) + (full ? 0 : flow?.Recent.Overflowed ?? 0);
        json.Append("],\"dns\":[");
        IEnumerable<string> dns = _dns.TryGetValue(name, out DnsQueries? queries)
            ? queries.Recent.Items(full).Where(q => q.Matches(name, ns)).Select(q => q.Json).ToList()
            : [];
        omitted += Append(json, dns, budget);
        json.Append("],\"omitted\":").Append(omitted.ToString(CultureInfo.InvariantCulture)).Append('}');
        return json.ToString();
    }

    /// <summary>Whether Service <paramref name="key"/> has anything new to send since the last <see cref="EndFlush"/>.</summary>
    public bool Changed(string key) =>
        (_services.TryGetValue(key, out ServiceFlow? flow) && (flow.Recent.FreshCount > 0 || flow.Endpoints.HasChanges))
        || _freshDns.Contains(key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..]);

    /// <summary>The map's edges whose weight changed since the last <see cref="EndFlush"/>: the Service's namespace, and the edge as JSON.</summary>
    public List<(string Namespace, string Json)> TakeEdgeChanges() => Edges(changedOnly: true);

    /// <summary>Every edge of the map: the Service's namespace, and the edge as JSON.</summary>
    public List<(string Namespace, string Json)> AllEdges() => Edges(changedOnly: false);

    /// <summary>What was new this flush is sent: it becomes history (the counters' change sets and the fresh events).</summary>
    public void EndFlush()
    {
        foreach (ServiceFlow flow in _services.Values)
        {
            flow.Recent.EndFlush();
            flow.Endpoints.EndFlush();
            flow.Clients.EndFlush();
        }

        foreach (DnsQueries queries in _dns.Values)
        {
            queries.Recent.EndFlush();
        }

        _freshDns.Clear();
    }

    private List<(string Namespace, string Json)> Edges(bool changedOnly)
    {
        var edges = new List<(string, string)>();
        foreach ((string key, ServiceFlow flow) in _services)
        {
            foreach (string client in changedOnly ? flow.Clients.ChangedKeys : flow.Clients.Totals.Keys)
            {
                var edge = new JsonObject { ["client"] = client, ["service"] = key, ["n"] = flow.Clients.Totals.GetValueOrDefault(client) };
                edges.Add((flow.Namespace, edge.ToJsonString()));
            }
        }

        return edges;
    }

    /// <summary>A DNS answer is kept under each Service name it may be about: its first label (a search-path attempt) and SVC of SVC.NS.svc.DOMAIN.</summary>
    private void AddDns(JsonObject e, long second)
    {
        string name = ((string?)e["name"] ?? "").ToLowerInvariant();
        if (name.Length == 0)
        {
            return;
        }

        string firstLabel = name[..Math.Max(0, name.IndexOf('.', StringComparison.Ordinal))];
        (string? svcNs, string? svcName) = (null, null);
        if (name.EndsWith(_svcSuffix, StringComparison.Ordinal) && name[..^_svcSuffix.Length].Split('.') is { Length: >= 2 } labels)
        {
            (svcNs, svcName) = (labels[^1], labels[^2]);
        }

        var query = new DnsQuery(firstLabel, svcName, svcNs, e.ToJsonString());
        foreach (string label in new[] { firstLabel, svcName }.OfType<string>().Where(l => l.Length > 0).Distinct(StringComparer.Ordinal))
        {
            if (!_dns.TryGetValue(label, out DnsQueries? queries))
            {
                _dns[label] = queries = new DnsQueries();
            }

            queries.Recent.Add(query, second);
            _freshDns.Add(label);
        }
    }

    private static int Append(StringBuilder json, IEnumerable<string>? items, int budget)
    {
        if (items is null)
        {
            return 0;
        }

        List<string> list = items as List<string> ?? [.. items];
        int skip = Math.Max(0, list.Count - budget);
        json.AppendJoin(',', list.Skip(skip));
        return skip;
    }

    private static void Counts(StringBuilder json, IReadOnlyDictionary<string, int>? counts)
    {
        json.Append('{');
        bool first = true;
        foreach ((string key, int n) in counts ?? new Dictionary<string, int>())
        {
            json.Append(first ? "" : ",").Append(JsonValue.Create(key).ToJsonString()).Append(':').Append(n.ToString(CultureInfo.InvariantCulture));
            first = false;
        }

        json.Append('}');
    }

    private static string? Address(JsonNode? end) =>
        (string?)end?["ip"] is { } ip ? ip + ":" + ((int?)end["port"] ?? 0).ToString(CultureInfo.InvariantCulture) : null;

    /// <summary>A client as the map names it: its pod (namespace/name) when it is one, else its address.</summary>
    private static string Client(JsonNode? end) =>
        (string?)end?["pod"]?["namespace"] is { } ns && (string?)end["pod"]?["name"] is { } pod ? ns + "/" + pod : (string?)end?["ip"] ?? "?";

    /// <summary>One Service's aggregates.</summary>
    private sealed class ServiceFlow(string ns)
    {
        public string Namespace { get; } = ns;

        public MinuteCounter Endpoints { get; } = new();

        public MinuteCounter Clients { get; } = new();

        public RecentItems<string> Recent { get; } = new(RecentEvents);
    }

    private sealed class DnsQueries
    {
        public RecentItems<DnsQuery> Recent { get; } = new(RecentEvents);
    }

    /// <summary>One DNS answer and the Service names it may be about.</summary>
    private sealed record DnsQuery(string FirstLabel, string? SvcName, string? SvcNamespace, string Json)
    {
        /// <summary>A search-path attempt for the name (any namespace), or the Service's own SVC.NS.svc name (SRV included).</summary>
        public bool Matches(string name, string ns) => FirstLabel == name || (SvcName == name && SvcNamespace == ns);
    }

    /// <summary>The last N items of the window, and how many of them came since the last flush.</summary>
    private sealed class RecentItems<T>(int capacity)
    {
        private readonly Queue<(long Second, T Item)> _items = new();

        public int FreshCount { get; private set; }

        /// <summary>Fresh items that went before the flush because more than the capacity came.</summary>
        public int Overflowed { get; private set; }

        public int Count => _items.Count;

        public void Add(T item, long second)
        {
            _items.Enqueue((second, item));
            if (_items.Count > capacity)
            {
                _items.Dequeue();
            }

            Overflowed += FreshCount == capacity ? 1 : 0;
            FreshCount = Math.Min(FreshCount + 1, _items.Count);
        }

        /// <summary>Drops the items from before <paramref name="since"/>.</summary>
        public void Prune(long since)
        {
            while (_items.Count > 0 && _items.Peek().Second <= since)
            {
                _items.Dequeue();
            }

            FreshCount = Math.Min(FreshCount, _items.Count);
        }

        /// <summary>The fresh items (all kept ones when <paramref name="all"/>), oldest first.</summary>
        public List<T> Items(bool all) => [.. _items.Skip(all ? 0 : _items.Count - FreshCount).Select(i => i.Item)];

        public void EndFlush() => (FreshCount, Overflowed) = (0, 0);
    }
}

/// <summary>
/// Counts per key over the last <see cref="UiFlows.WindowSeconds"/> seconds in one-second buckets: the totals are kept
/// as counts arrive and leave (no re-count per page or per frame), and which keys and seconds changed since the last
/// flush, so that only those are sent.
/// </summary>
internal sealed class MinuteCounter
{
    private readonly Dictionary<string, int>[] _buckets = [.. Enumerable.Range(0, UiFlows.WindowSeconds).Select(_ => new Dictionary<string, int>(StringComparer.Ordinal))];
    private readonly long[] _seconds = new long[UiFlows.WindowSeconds];
    private readonly Dictionary<string, int> _totals = new(StringComparer.Ordinal);
    private readonly HashSet<string> _changedKeys = new(StringComparer.Ordinal);
    private readonly HashSet<long> _changedSeconds = [];

    public IReadOnlyDictionary<string, int> Totals => _totals;

    public IReadOnlyCollection<string> ChangedKeys => _changedKeys;

    public bool HasChanges => _changedKeys.Count > 0;

    public void Add(string key, long second)
    {
        int slot = (int)(second % UiFlows.WindowSeconds);
        if (_seconds[slot] > second)
        {
            return;
        }

        if (_seconds[slot] < second)
        {
            Expire(slot);
            _seconds[slot] = second;
        }

        _buckets[slot][key] = _buckets[slot].GetValueOrDefault(key) + 1;
        _totals[key] = _totals.GetValueOrDefault(key) + 1;
        _changedKeys.Add(key);
        _changedSeconds.Add(second);
    }

    public void Advance(long now)
    {
        for (int slot = 0; slot < _buckets.Length; slot++)
        {
            if (_seconds[slot] <= now - UiFlows.WindowSeconds && _buckets[slot].Count > 0)
            {
                Expire(slot);
            }
        }
    }

    /// <summary>The buckets that changed since the last flush (every non-empty one when <paramref name="all"/>), oldest first.</summary>
    public IEnumerable<(long Second, Dictionary<string, int> Counts)> Buckets(bool all) =>
        Enumerable.Range(0, _buckets.Length)
            .Where(slot => _buckets[slot].Count > 0 && (all || _changedSeconds.Contains(_seconds[slot])))
            .Select(slot => (_seconds[slot], _buckets[slot]))
            .OrderBy(b => b.Item1);

    public void EndFlush()
    {
        _changedKeys.Clear();
        _changedSeconds.Clear();
    }

    private void Expire(int slot)
    {
        foreach ((string key, int n) in _buckets[slot])
        {
            int left = _totals[key] - n;
            if (left == 0)
            {
                _totals.Remove(key);
            }
            else
            {
                _totals[key] = left;
            }

            _changedKeys.Add(key);
        }

        _buckets[slot].Clear();
    }
}
