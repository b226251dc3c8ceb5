using System.Security.Cryptography;
using System.Text;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// Per-service chain names as kube-proxy's nftables mode derives them (pkg/proxy/nftables/proxier.go), used for the
/// <c>firewall-</c> chains: a readable base <c>namespace/service/protocol/port</c> prefixed with the first 8
/// characters of base32(sha256(base)), so names that differ in one digit still look different.
/// </summary>
internal static class NftablesNames
{
    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    // nft names are at most 256 bytes; kube-proxy keeps 16 for the longest prefix.
    private const int MaxBaseLength = 256 - 16;

    /// <summary><c>HASH-ns/svc/tcp/port</c> for a service port named <c>ns/svc</c> or <c>ns/svc:port</c>.</summary>
    public static string ServicePortBase(string servicePortName, string protocol) => Hashed(Readable(servicePortName, protocol));

    private static string Readable(string servicePortName, string protocol)
    {
        int slash = servicePortName.IndexOf('/', StringComparison.Ordinal);
        int colon = servicePortName.IndexOf(':', slash + 1);
        string service = colon < 0 ? servicePortName : servicePortName[..colon];
        string port = colon < 0 ? "" : servicePortName[(colon + 1)..];
        return $"{service}/{protocol}/{port}";
    }

    private static string Hashed(string name)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        // 8 base32 characters are exactly the first 5 bytes.
        ulong bits = 0;
        for (int i = 0; i < 5; i++)
        {
            bits = (bits << 8) | hash[i];
        }

        Span<char> prefix = stackalloc char[8];
        for (int i = 0; i < 8; i++)
        {
            prefix[i] = Base32Alphabet[(int)((bits >> (35 - (i * 5))) & 0x1F)];
        }

        string hashed = $"{prefix}-{name}";
        return hashed.Length > MaxBaseLength ? hashed[..(MaxBaseLength - 3)] + "..." : hashed;
    }
}
