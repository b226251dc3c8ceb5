using System.Security.Cryptography;
using System.Text;

namespace Switchboard.Node.Network;

/// <summary>
/// Names of what the node creates. Node namespace <c>sb-&lt;cluster&gt;-&lt;node&gt;</c>; pod namespaces
/// <c>sb-&lt;cluster&gt;-&lt;node&gt;_&lt;pod uid&gt;</c> ('_' never occurs in a node name, so one node's pods are never
/// mistaken for another's); veths live in the node namespace, so their names (≤ 15 bytes) only need to be unique there.
/// </summary>
internal sealed class NetworkNames(string cluster, string node)
{
    public const string Bridge = "sb0";

    public string NodeNamespace { get; } = $"sb-{cluster}-{node}";

    /// <summary>What every pod namespace of this node starts with.</summary>
    public string PodNamespacePrefix => NodeNamespace + "_";

    public string PodNamespace(string uid) => PodNamespacePrefix + uid;

    public static string Veth(string uid) => "veth" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(uid)))[..10];
}
