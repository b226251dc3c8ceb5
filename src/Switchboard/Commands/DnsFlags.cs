using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using Switchboard.Dns;
using Switchboard.Dns.Zones;

namespace Switchboard.Commands;

/// <summary>The cluster DNS server's flags: <c>switchboard dns</c> takes them all, <c>switchboard up</c> the zone and upstreams.</summary>
internal sealed class DnsFlags
{
    private readonly Option<string> _zone = new("--zone")
    {
        Description = "The cluster domain",
        DefaultValueFactory = _ => "cluster.local",
    };

    private readonly Option<IPEndPoint[]> _upstreams = new("--upstream")
    {
        Description = "Resolver for names outside the cluster, ADDR:PORT, repeatable (default: the nameservers of /etc/resolv.conf)",
        CustomParser = ParseEndPoints,
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<uint> _ttl = new("--dns-ttl")
    {
        Description = "TTL of cluster records and negative answers",
        DefaultValueFactory = _ => 30,
    };

    private readonly Option<PodRecordMode> _pods = new("--pods")
    {
        Description = "Answers for a-b-c-d.<ns>.pod.<zone>: Insecure, Verified or Disabled",
        DefaultValueFactory = _ => PodRecordMode.Insecure,
    };

    private readonly Option<bool> _queryLog = new("--query-log") { Description = "Log every answered query" };

    private readonly Option<int> _traceBuffer = new("--dns-trace-buffer")
    {
        Description = "Recent answers kept for `switchboard trace` (about 560 bytes each); 0 turns the trace off",
        DefaultValueFactory = _ => Switchboard.Dns.Trace.DnsTraceBuffer.DefaultCapacity,
    };

    private readonly Option<IPNetwork[]> _clusterNetworks = new("--cluster-networks")
    {
        Description = "Pod and service CIDRs, repeatable: besides loopback the only clients whose names are forwarded, and never rate-limited (default: the service and pod ranges)",
        CustomParser = ParseNetworks,
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<int> _rateLimit = new("--dns-rate-limit")
    {
        Description = "UDP responses a second to each client outside the cluster networks, when listening beyond loopback (response-rate limiting); 0: no limit",
        DefaultValueFactory = _ => 50,
    };

    public static Option<IPEndPoint[]> EndPoints(string name, string description, string defaultValue) => new(name)
    {
        Description = description,
        CustomParser = ParseEndPoints,
        DefaultValueFactory = result => ParseEndPoints(defaultValue, result),
    };

    public static Option<IPEndPoint?> EndPoint(string name, string description, string defaultValue) => new(name)
    {
        Description = description,
        CustomParser = result => ParseEndPoints(result)?.FirstOrDefault(),
        DefaultValueFactory = result => ParseEndPoints(defaultValue, result).FirstOrDefault(),
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_zone);
        command.Options.Add(_upstreams);
        command.Options.Add(_ttl);
        command.Options.Add(_pods);
        command.Options.Add(_queryLog);
        command.Options.Add(_traceBuffer);
        command.Options.Add(_clusterNetworks);
        command.Options.Add(_rateLimit);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_rateLimit) < 0)
            {
                result.AddError("--dns-rate-limit must not be negative");
            }
        });
    }

    /// <param name="result">The parsed command line.</param>
    /// <param name="listen">Where the server listens.</param>
    /// <param name="operations">Where /metrics is served.</param>
    /// <param name="clusterNetworks">The pod and service ranges, unless --cluster-networks names others.</param>
    public DnsServiceOptions Read(ParseResult result, IReadOnlyList<IPEndPoint> listen, IPEndPoint? operations, IReadOnlyList<IPNetwork> clusterNetworks) => new()
    {
        ClientNetworks = result.GetValue(_clusterNetworks) is { Length: > 0 } given ? given : clusterNetworks,
        ResponsesPerSecond = result.GetValue(_rateLimit),
        Listen = listen,
        Zone = result.GetRequiredValue(_zone),
        Upstreams = result.GetValue(_upstreams) ?? [],
        Ttl = result.GetValue(_ttl),
        Pods = result.GetValue(_pods),
        QueryLog = result.GetValue(_queryLog),
        TraceBuffer = result.GetValue(_traceBuffer),
        OperationsEndPoint = operations,
    };

    private static IPNetwork[] ParseNetworks(ArgumentResult result)
    {
        var networks = new List<IPNetwork>();
        foreach (var token in result.Tokens)
        {
            if (IPNetwork.TryParse(token.Value, out var network))
            {
                networks.Add(network);
            }
            else
            {
                result.AddError($"'{token.Value}' is not a CIDR");
            }
        }

        return [.. networks];
    }

    private static IPEndPoint[] ParseEndPoints(ArgumentResult result) =>
        [.. result.Tokens.SelectMany(token => ParseEndPoints(token.Value, result))];

    private static IPEndPoint[] ParseEndPoints(string text, ArgumentResult result)
    {
        if (IPEndPoint.TryParse(text, out var endPoint) && endPoint.Port != 0)
        {
            return [endPoint];
        }

        result.AddError($"'{text}' is not ADDR:PORT");
        return [];
    }
}
