using System.Net;

namespace Switchboard.Dns.Forwarding;

/// <summary>The nameservers of a resolv.conf(5) file, the default upstreams as in CoreDNS's <c>forward . /etc/resolv.conf</c>.</summary>
public static class ResolvConf
{
    public const string DefaultPath = "/etc/resolv.conf";

    private const int DnsPort = 53;

    /// <summary>Every <c>nameserver ADDRESS</c> line, port 53; a missing file has none.</summary>
    public static IReadOnlyList<IPEndPoint> ReadNameservers(string path = DefaultPath)
    {
        ArgumentNullException.ThrowIfNull(path);
        return File.Exists(path) ? ParseNameservers(File.ReadAllText(path)) : [];
    }

    public static IReadOnlyList<IPEndPoint> ParseNameservers(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var servers = new List<IPEndPoint>();
        foreach (string line in text.Split('\n'))
        {
            string[] fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields is ["nameserver", var address, ..] && IPAddress.TryParse(address.Split('%')[0], out IPAddress? ip))
            {
                servers.Add(new IPEndPoint(ip, DnsPort));
            }
        }

        return servers;
    }
}
