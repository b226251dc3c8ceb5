using Switchboard.Proxy.Trace;

namespace Switchboard.Proxy.Userspace;

/// <summary>How the userspace proxy relays.</summary>
internal sealed record UserspaceOptions
{
    /// <summary>
    /// How long a UDP client flow lives without a datagram either way; the kernel's UDP conntrack timeout (30 s), so a
    /// client sees the same behaviour as in the kernel modes.
    /// </summary>
    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where each service port's round robin starts.</summary>
    public Random Random { get; init; } = Random.Shared;

    /// <summary>Where each relayed TCP connection is recorded (opened, closed) for <c>switchboard trace</c>; null records none.</summary>
    public ConnectionTrace? Trace { get; init; }
}
