using System.Net;
using Switchboard.Dns.Forwarding;

namespace Switchboard.Dns.Tests.Forwarding;

public sealed class ResolvConfTests
{
    [Fact]
    public void Nameserver_lines_become_port_53_upstreams_in_order()
    {
        const string Text = "# generated\nsearch example.org\nnameserver 192.0.2.53\nnameserver\tfe80::1%eth0\noptions ndots:5\nnameserver not-an-ip\n nameserver 198.51.100.1 # trailing\n";

        IReadOnlyList<IPEndPoint> servers = ResolvConf.ParseNameservers(Text);

        Assert.Equal(["192.0.2.53:53", "[fe80::1]:53", "198.51.100.1:53"], servers.Select(s => s.ToString()));
    }

    [Fact]
    public void A_missing_file_has_no_nameservers() =>
        Assert.Empty(ResolvConf.ReadNameservers(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"))));
}
