namespace Switchboard.Dns.Tests.Support;

/// <summary>A clock that stands still, so SOA serials are predictable.</summary>
internal sealed class TestTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
