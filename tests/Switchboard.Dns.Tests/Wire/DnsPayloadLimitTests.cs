using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Wire;

public sealed class DnsPayloadLimitTests
{
    private static readonly DnsPayloadLimit Limit = new(1232);

    [Theory]
    [InlineData(false, 0, false, 512)]
    [InlineData(true, 4096, false, 1232)]
    [InlineData(true, 800, false, 800)]
    [InlineData(true, 100, false, 512)]
    [InlineData(true, 100, true, 65535)]
    [InlineData(false, 0, true, 65535)]
    public void A_response_fits_the_clients_size_held_between_512_and_ours_and_a_whole_message_over_TCP(bool edns, int clientSize, bool overTcp, int expected) =>
        Assert.Equal(expected, Limit.For(new DnsEdns(edns, (ushort)clientSize, 0, false), overTcp));

    [Fact]
    public void Our_own_size_is_advertised_and_must_lie_between_512_and_a_whole_message()
    {
        Assert.Equal(1232, Limit.Advertised);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DnsPayloadLimit(511));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DnsPayloadLimit(65536));
    }
}
