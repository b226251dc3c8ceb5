namespace Switchboard.Dns.SkyDns;

/// <summary>SkyDNS keys are domain names with their labels reversed under a prefix: <c>a.b.local</c> is <c>/skydns/local/b/a</c>.</summary>
internal static class SkyDnsPath
{
    /// <summary>The key path of a lower-case name without the trailing dot.</summary>
    public static string FromName(string prefix, string name) =>
        prefix + "/" + string.Join('/', name.Split('.', StringSplitOptions.RemoveEmptyEntries).Reverse());

    /// <summary>The name a key stands for (lower case, no trailing dot); null when the key is not under <paramref name="prefix"/>.</summary>
    public static string? ToName(string prefix, string key)
    {
        if (!key.StartsWith(prefix + "/", StringComparison.Ordinal))
        {
            return null;
        }

        string[] labels = key[(prefix.Length + 1)..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        return labels.Length == 0 ? null : string.Join('.', labels.Reverse()).ToLowerInvariant();
    }
}
