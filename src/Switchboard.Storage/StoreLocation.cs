namespace Switchboard.Storage;

/// <summary>
/// Where the cluster state lives, as given on the command line: <c>sqlite</c> (the embedded store in the
/// data dir) or <c>etcd://host:port[,host:port…]</c> (a real etcd cluster).
/// </summary>
public sealed record StoreLocation
{
    private StoreLocation(IReadOnlyList<Uri> etcdEndpoints) => EtcdEndpoints = etcdEndpoints;

    /// <summary>The embedded SQLite store.</summary>
    public static StoreLocation Sqlite { get; } = new([]);

    /// <summary>The etcd members to talk to (http URIs); empty for the embedded store.</summary>
    public IReadOnlyList<Uri> EtcdEndpoints { get; }

    public bool IsEtcd => EtcdEndpoints.Count > 0;

    public static StoreLocation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text == "sqlite")
        {
            return Sqlite;
        }

        const string scheme = "etcd://";
        if (!text.StartsWith(scheme, StringComparison.Ordinal) || text.Length == scheme.Length)
        {
            throw new FormatException($"store '{text}' is neither 'sqlite' nor 'etcd://HOST:PORT[,HOST:PORT…]'");
        }

        var endpoints = new List<Uri>();
        foreach (string member in text[scheme.Length..].Split(','))
        {
            int colon = member.LastIndexOf(':');
            bool hasPort = colon > 0 && int.TryParse(member.AsSpan(colon + 1), out int port) && port is > 0 and <= 65535;
            if (!hasPort || member.Contains('/', StringComparison.Ordinal) || !Uri.TryCreate("http://" + member, UriKind.Absolute, out var uri))
            {
                throw new FormatException($"etcd member '{member}' in '{text}' is not HOST:PORT");
            }

            endpoints.Add(uri);
        }

        return new StoreLocation(endpoints);
    }

    public override string ToString() =>
        IsEtcd ? "etcd://" + string.Join(',', EtcdEndpoints.Select(u => u.Authority)) : "sqlite";
}
