namespace Switchboard.Kube.Queues;

/// <summary>
/// A token bucket (golang.org/x/time/rate's, as client-go's rate limiters and kube-proxy's BoundedFrequencyRunner use
/// it): refilled at <c>perSecond</c> up to <c>burst</c>. Not thread-safe: its owner serialises calls.
/// </summary>
public sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly int _burst;
    private double _tokens;
    private long _tokensAt;

    public TokenBucket(double perSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _perSecond = perSecond;
        _burst = burst;
        _tokens = burst;
        _tokensAt = time.GetTimestamp();
    }

    /// <summary>Takes a token, which may not be there yet: how long until it is (zero when it was).</summary>
    public TimeSpan Reserve()
    {
        long now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_tokensAt, now).TotalSeconds * _perSecond));
        _tokensAt = now;
        _tokens -= 1;
        return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _perSecond);
    }
}
