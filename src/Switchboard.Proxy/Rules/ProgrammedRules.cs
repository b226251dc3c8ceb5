using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Nftables;

namespace Switchboard.Proxy.Rules;

/// <summary>
/// What the last sync programmed for one Service, per port, in the active mode: the iptables rules of its entries and
/// KUBE-SVC/KUBE-SEP chains, the nftables set and map elements it owns, or the userspace relay's listener; each line
/// with the endpoint it leads to. Served as <c>/rules?namespace=NS&amp;name=NAME</c> on the proxy's operations port (the
/// web view reaches it as <c>nodes/NODE:PORT/proxy/rules</c>, as <c>switchboard trace</c> reaches <c>/trace</c>). The text
/// comes from the same writers the sync uses, over the service ports the last sync applied.
/// </summary>
internal sealed class ProgrammedRules(ProxyMode mode, IptablesOptions iptables)
{
    public const string Path = "/rules";

    private IReadOnlyList<ServicePortState> _programmed = [];

    /// <summary>The service ports the last successful sync wrote.</summary>
    public void Applied(IReadOnlyList<ServicePortState> programmed) => Volatile.Write(ref _programmed, programmed);

    public async Task ServeAsync(HttpContext http)
    {
        string? ns = http.Request.Query["namespace"];
        string? name = http.Request.Query["name"];
        if (string.IsNullOrEmpty(ns) || string.IsNullOrEmpty(name))
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsync("namespace and name are required\n", http.RequestAborted);
            return;
        }

        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(Describe(ns, name).ToJsonString(), http.RequestAborted);
    }

    /// <summary>The Service's ports as programmed; none when the last sync wrote nothing for it.</summary>
    public JsonObject Describe(string ns, string name)
    {
        string prefix = ns + "/" + name;
        var ports = new JsonArray();
        foreach (ServicePortState s in Volatile.Read(ref _programmed))
        {
            if (s.Name == prefix || s.Name.StartsWith(prefix + ":", StringComparison.Ordinal))
            {
                ports.Add((JsonNode)new JsonObject
                {
                    ["name"] = s.Name,
                    ["protocol"] = s.Protocol,
                    ["clusterIP"] = s.ClusterIp,
                    ["port"] = s.Port,
                    ["endpoints"] = new JsonArray([.. s.Endpoints.Select(e => JsonValue.Create(e.Address))]),
                    ["rules"] = mode switch
                    {
                        ProxyMode.Iptables => IptablesLines(s),
                        ProxyMode.Nftables => NftablesElements(s),
                        _ => UserspaceListener(s),
                    },
                });
            }
        }

        return new JsonObject { ["mode"] = mode.ToString().ToLowerInvariant(), ["namespace"] = ns, ["name"] = name, ["ports"] = ports };
    }

    /// <summary>The filter and nat lines as iptables-restore took them; a KUBE-SEP chain's lines and the jumps to it name its endpoint.</summary>
    private JsonArray IptablesLines(ServicePortState s)
    {
        var endpointOfChain = s.Endpoints.Concat(s.LocalEndpoints).DistinctBy(e => e.Chain).ToDictionary(e => e.Chain, e => e.Address, StringComparer.Ordinal);
        var rules = new JsonArray();
        using var w = new RestoreWriter();
        IptablesRuleWriter.WriteFilterEntries(w, IptablesRuleWriter.Op.Append, s);
        Add("filter", w);
        IptablesRuleWriter.WriteNatEntries(w, IptablesRuleWriter.Op.Append, s);
        new IptablesRuleWriter(iptables).WriteChainRules(w, s);
        Add("nat", w);
        return rules;

        void Add(string table, RestoreWriter written)
        {
            foreach (string line in written.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] words = line.Split(' ');
                string chain = words.Length > 1 ? words[1] : "";
                string? jump = Array.IndexOf(words, "-j") is int j and >= 0 && j + 1 < words.Length ? words[j + 1] : null;
                string? endpoint = endpointOfChain.GetValueOrDefault(chain) ?? (jump is null ? null : endpointOfChain.GetValueOrDefault(jump));
                rules.Add((JsonNode)new JsonObject { ["table"] = table, ["chain"] = chain, ["rule"] = line, ["endpoint"] = endpoint });
            }

            written.Clear();
        }
    }

    /// <summary>The port's elements in the sets and maps of table <c>ip kube-proxy</c>, in nft's notation; an endpoints map element names its endpoint.</summary>
    private static JsonArray NftablesElements(ServicePortState s)
    {
        var rules = new JsonArray();
        foreach (NftElement e in new NftServicePort(s).Elements)
        {
            NftSelector? selector = NftablesLayout.Selectors.FirstOrDefault(x => x.Endpoints == e.Set);
            string key = selector is null ? Key(e.Key, e.Key.Length == 8) : Key(e.Key.AsSpan(0, e.Key.Length - 4).ToArray(), selector.NodePort) + " . " + BinaryPrimitives.ReadUInt32LittleEndian(e.Key.AsSpan(e.Key.Length - 4)).ToString(CultureInfo.InvariantCulture);
            string? endpoint = e.Data is { } data ? $"{new IPAddress(data.AsSpan(0, 4))}:{BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(4))}" : null;
            string value = endpoint is null ? e.Chain is { } chain ? " : goto " + chain : "" : " : " + endpoint.Replace(":", " . ", StringComparison.Ordinal);
            rules.Add((JsonNode)new JsonObject
            {
                ["table"] = "ip " + NftablesLayout.Table,
                ["chain"] = e.Set,
                ["rule"] = $"element ip {NftablesLayout.Table} {e.Set} {{ {key}{value} }}",
                ["endpoint"] = endpoint,
            });
        }

        return rules;

        static string Key(byte[] key, bool nodePort) => nodePort
            ? $"{Protocol(key[0])} . {BinaryPrimitives.ReadUInt16BigEndian(key.AsSpan(4))}"
            : $"{new IPAddress(key.AsSpan(0, 4))} . {Protocol(key[4])} . {BinaryPrimitives.ReadUInt16BigEndian(key.AsSpan(8))}";

        static string Protocol(byte number) => number switch { 6 => "tcp", 17 => "udp", 132 => "sctp", _ => number.ToString(CultureInfo.InvariantCulture) };
    }

    /// <summary>The relay's socket on the cluster IP and the endpoints it connects to in turn.</summary>
    private static JsonArray UserspaceListener(ServicePortState s) =>
        s.HasEndpoints
            ? [.. s.Endpoints.Select((e, i) => (JsonNode)new JsonObject
            {
                ["table"] = "userspace",
                ["chain"] = $"{s.ClusterIp}:{s.Port}",
                ["rule"] = $"listen {s.Protocol} {s.ClusterIp}:{s.Port} -> round robin #{i + 1} {e.Address}",
                ["endpoint"] = e.Address,
            })]
            : [(JsonNode)new JsonObject { ["table"] = "userspace", ["chain"] = $"{s.ClusterIp}:{s.Port}", ["rule"] = $"no socket on {s.Protocol} {s.ClusterIp}:{s.Port}: refused by the kernel (no endpoints)", ["endpoint"] = null }];
}
