namespace Switchboard.Storage;

/// <summary>
/// Where the cluster state lives, as given on the command line: <c>sqlite</c> (the embedded store in the
/// data dir), <c>etcd://host:port[,host:port…]</c> (a real etcd cluster, plain gRPC) or, as kube-apiserver's
/// <c>--etcd-servers</c>, <c>https://host:port[,https://host:port…]</c> (over TLS) or <c>http://…</c>.
/// </summary>
public sealed record StoreLocation
{
    private StoreLocation(IReadOnlyList<Uri> etcdEndpoints) => EtcdEndpoints = etcdEndpoints;

    /// <summary>The embedded SQLite store.</summary>
    public static StoreLocation Sqlite { get; } = new([]);

    /// <summary>The etcd members to talk to (http or https URIs, all of one scheme); empty for the embedded store.</summary>
    public IReadOnlyList<Uri> EtcdEndpoints { get; }

    public bool IsEtcd => EtcdEndpoints.Count > 0;

    /// <summary>Whether the etcd members are reached over TLS.</summary>
    public bool IsTls => IsEtcd && EtcdEndpoints[0].Scheme == Uri.UriSchemeHttps;

    public static StoreLocation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text == "sqlite")
        {
            return Sqlite;
        }

        const string scheme = "etcd://";
        if (text.StartsWith(scheme, StringComparison.Ordinal) && text.Length > scheme.Length)
        {
            return new StoreLocation([.. text[scheme.Length..].Split(',').Select(member => Member(text, Uri.UriSchemeHttp, member))]);
        }

        string? urlScheme = text.StartsWith("https://", StringComparison.Ordinal) ? Uri.UriSchemeHttps : text.StartsWith("http://", StringComparison.Ordinal) ? Uri.UriSchemeHttp : null;
        if (urlScheme is null)
        {
            throw new FormatException($"store '{text}' is neither 'sqlite' nor 'etcd://HOST:PORT[,HOST:PORT…]' nor 'https://HOST:PORT[,https://HOST:PORT…]'");
        }

        string prefix = urlScheme + "://";
        return new StoreLocation([.. text.Split(',').Select(url => url.StartsWith(prefix, StringComparison.Ordinal)
            ? Member(text, urlScheme, url[prefix.Length..])
            : throw new FormatException($"etcd member '{url}' in '{text}' is not {prefix}HOST:PORT: every member takes the first one's scheme"))]);
    }

    private static Uri Member(string text, string scheme, string member)
    {
        int colon = member.LastIndexOf(':');
        bool hasPort = colon > 0 && int.TryParse(member.AsSpan(colon + 1), out int port) && port is > 0 and <= 65535;
        if (!hasPort || member.Contains('/', StringComparison.Ordinal) || !Uri.TryCreate(scheme + "://" + member, UriKind.Absolute, out var uri))
        {
            throw new FormatException($"etcd member '{member}' in '{text}' is not HOST:PORT");
        }

        return uri;
    }

    public override string ToString() =>
        !IsEtcd ? "sqlite"
        : IsTls ? string.Join(',', EtcdEndpoints.Select(u => $"https://{u.Authority}"))
        : "etcd://" + string.Join(',', EtcdEndpoints.Select(u => u.Authority));
}
