using System.Security.Cryptography;
using System.Text;

namespace Switchboard.Proxy.Model;

/// <summary>
/// Chain names derived as kube-proxy derives them (pkg/proxy/iptables/proxier.go): the first 16 characters of the
/// standard base32 encoding of sha256(servicePortName + protocol [+ endpoint]), so rules compare with kube-proxy's.
/// </summary>
internal static class ChainNames
{
    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const int HashChars = 16;

    /// <summary>KUBE-SVC-…: the service port's internal (cluster IP) chain.</summary>
    public static string ServicePort(string servicePortName, string protocol) => Chain("KUBE-SVC-", servicePortName, protocol, "");

    /// <summary>KUBE-SVL-…: the service port's chain of node-local endpoints, for a Local traffic policy.</summary>
    public static string LocalServicePort(string servicePortName, string protocol) => Chain("KUBE-SVL-", servicePortName, protocol, "");

    /// <summary>KUBE-EXT-…: the service port's external (NodePort, external IP, load-balancer IP) chain.</summary>
    public static string External(string servicePortName, string protocol) => Chain("KUBE-EXT-", servicePortName, protocol, "");

    /// <summary>KUBE-FW-…: the service port's firewall chain, which admits only its loadBalancerSourceRanges to its load-balancer IPs.</summary>
    public static string Firewall(string servicePortName, string protocol) => Chain("KUBE-FW-", servicePortName, protocol, "");

    /// <summary>KUBE-SEP-…: one endpoint (<c>ip:port</c>) of the service port.</summary>
    public static string Endpoint(string servicePortName, string protocol, string endpoint) => Chain("KUBE-SEP-", servicePortName, protocol, endpoint);

    private static string Chain(string prefix, string servicePortName, string protocol, string endpoint)
    {
        byte[] input = Encoding.UTF8.GetBytes(servicePortName + protocol + endpoint);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        Span<char> name = stackalloc char[prefix.Length + HashChars];
        prefix.CopyTo(name);
        Base32Prefix(hash, name[prefix.Length..]);
        return new string(name);
    }

    // Base32 turns each 5 bytes into 8 characters, so 16 characters need exactly the first 10 bytes (no padding).
    private static void Base32Prefix(ReadOnlySpan<byte> bytes, Span<char> destination)
    {
        for (int group = 0; group < destination.Length / 8; group++)
        {
            ulong bits = 0;
            for (int i = 0; i < 5; i++)
            {
                bits = (bits << 8) | bytes[(group * 5) + i];
            }

            for (int i = 0; i < 8; i++)
            {
                destination[(group * 8) + i] = Base32Alphabet[(int)((bits >> (35 - (i * 5))) & 0x1F)];
            }
        }
    }
}
