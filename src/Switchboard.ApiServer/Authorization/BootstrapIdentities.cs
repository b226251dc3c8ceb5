namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// The identities this cluster's own components run as, which the bootstrap policy binds to their roles: the users
/// upstream's components have (kube-controller-manager, kube-proxy, each kubelet in system:nodes) and CoreDNS's role
/// name for cluster DNS.
/// </summary>
public static class BootstrapIdentities
{
    public const string ControllerManagerUser = "system:kube-controller-manager";

    public const string ProxyUser = "system:kube-proxy";

    public const string DnsUser = "system:coredns";

    /// <summary>The group of every node's user.</summary>
    public const string NodesGroup = "system:nodes";

    /// <summary>A node's user, as kubelet's client certificate names it.</summary>
    public static string NodeUser(string nodeName) => "system:node:" + nodeName;
}
