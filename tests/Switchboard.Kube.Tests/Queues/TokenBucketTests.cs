using Microsoft.Extensions.Time.Testing;
using Switchboard.Kube.Queues;

namespace Switchboard.Kube.Tests.Queues;

public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_full_bucket_gives_its_burst_at_once_then_one_token_per_period()
    {
        var bucket = new TokenBucket(perSecond: 1, burst: 2, _time);

        Assert.Equal(TimeSpan.Zero, bucket.Reserve());
        Assert.Equal(TimeSpan.Zero, bucket.Reserve());
        Assert.Equal(TimeSpan.FromSeconds(1), bucket.Reserve());
        Assert.Equal(TimeSpan.FromSeconds(2), bucket.Reserve());
    }

    [Fact]
    public void A_quiet_spell_refills_the_bucket_up_to_its_burst_only()
    {
        var bucket = new TokenBucket(perSecond: 2, burst: 2, _time);
        bucket.Reserve();
        bucket.Reserve();

        _time.Advance(TimeSpan.FromSeconds(0.25));
        Assert.Equal(TimeSpan.FromSeconds(0.25), bucket.Reserve());

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.Zero, bucket.Reserve());
        Assert.Equal(TimeSpan.Zero, bucket.Reserve());
        Assert.Equal(TimeSpan.FromSeconds(0.5), bucket.Reserve());
    }
}
