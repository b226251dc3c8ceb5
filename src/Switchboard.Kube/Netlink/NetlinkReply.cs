namespace Switchboard.Kube.Netlink;

/// <summary>One NLMSG_ERROR the kernel answered a request with: <paramref name="Error"/> 0 is an ACK, else −errno, with the extended-ACK text when the kernel gave one.</summary>
public readonly record struct NetlinkReply(uint Sequence, int Error, string? Message);
