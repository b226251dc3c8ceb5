using System.Net;
using Switchboard.Dns.Forwarding;

namespace Switchboard.Dns.Tests.Forwarding;

/// <summary>An upstream that reaches the server's own listener, on any of its addresses, is refused at start.</summary>
public sealed class ForwardingLoopTests
{
    [Theory]
    [InlineData("127.0.0.1:5353", "127.0.0.1:5353")]
    [InlineData("0.0.0.0:5353", "127.0.0.1:5353")]
    [InlineData("0.0.0.0:5353", "127.0.0.53:5353")]
    [InlineData("[::]:5353", "[::1]:5353")]
    public void An_upstream_reaching_the_servers_own_listener_is_a_loop(string listener, string upstream)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ForwardingLoop.Refuse([IPEndPoint.Parse(upstream)], [IPEndPoint.Parse(listener)]));

        Assert.Equal(
            $"forwarding loop: upstream {IPEndPoint.Parse(upstream)} is this DNS server's own listener {IPEndPoint.Parse(listener)}; give --upstream another resolver, or listen elsewhere",
            error.Message);
    }

    [Theory]
    [InlineData("127.0.0.1:5353", "127.0.0.1:53")]
    [InlineData("127.0.0.1:5353", "127.0.0.2:5353")]
    [InlineData("0.0.0.0:5353", "192.0.2.1:5353")]
    public void An_upstream_elsewhere_is_no_loop(string listener, string upstream) =>
        ForwardingLoop.Refuse([IPEndPoint.Parse(upstream)], [IPEndPoint.Parse(listener)]);
}
