using Switchboard.Storage;

namespace Switchboard.ApiServer.Registry;

/// <summary>What every resource store shares: the key-value store, the clock and the random source.</summary>
internal sealed class RegistryContext(IKeyValueStore store, TimeProvider time, Random random)
{
    public IKeyValueStore Store { get; } = store;

    public TimeProvider Time { get; } = time;

    public Random Random { get; } = random;

    /// <summary>Now, truncated to whole seconds as kube-apiserver stores timestamps.</summary>
    public DateTime Now()
    {
        var now = Time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
    }
}
