using Microsoft.Extensions.Time.Testing;

namespace Switchboard.Proxy.Tests;

public sealed class ProxyHealthTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    [Fact]
    public void Unhealthy_until_the_first_sync_then_while_a_change_waits_longer_than_the_timeout()
    {
        var health = new ProxyHealth(_time, TimeSpan.FromSeconds(60));
        Assert.False(health.Check().Healthy);

        health.Updated();
        Assert.True(health.Check().Healthy);

        health.QueuedUpdate();
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.True(health.Check().Healthy);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(health.Check().Healthy);

        health.Updated();
        Assert.True(health.Check().Healthy);
    }

    [Fact]
    public void Answers_kube_proxy_json()
    {
        var health = new ProxyHealth(_time, TimeSpan.FromSeconds(60));
        health.Updated();
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(
            """{"lastUpdated": "2026-01-02 03:04:05.0000000 +0000 UTC","currentTime": "2026-01-02 03:04:07.0000000 +0000 UTC", "nodeEligible": true}""",
            health.Check().Json);
    }
}
