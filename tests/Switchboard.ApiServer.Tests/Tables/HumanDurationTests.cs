using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Tests.Tables;

public sealed class HumanDurationTests
{
    [Theory]
    [InlineData(95, "95s")]
    [InlineData(320, "5m20s")]
    [InlineData(600, "10m")]
    [InlineData(45 * 60, "45m")]
    [InlineData((4 * 3600) + (5 * 60), "4h5m")]
    [InlineData(20 * 3600, "20h")]
    [InlineData((3 * 86400) + (4 * 3600), "3d4h")]
    [InlineData(30 * 86400, "30d")]
    public void Ages_print_as_kubectl_prints_them(int seconds, string expected) =>
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromSeconds(seconds)));
}
