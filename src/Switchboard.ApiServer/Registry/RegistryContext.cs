using System.Text;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// What every resource store shares: the key-value store, the clock, the random source (used by every request at once:
/// <see cref="System.Random.Shared"/> in the server) and the server's shutdown signal.
/// </summary>
internal sealed class RegistryContext(IKeyValueStore store, TimeProvider time, Random random, CancellationToken stopping = default)
{
    public IKeyValueStore Store { get; } = store;

    public TimeProvider Time { get; } = time;

    public Random Random { get; } = random;

    /// <summary>Cancelled when the server begins to stop: long-running watches end then rather than hold up shutdown.</summary>
    public CancellationToken Stopping { get; } = stopping;

    /// <summary>How often a watch that allows bookmarks gets one (kube-apiserver: about once a minute).</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Bytes of events a watch may hold for a client that is not reading; past it the watch is dropped.</summary>
    public long WatchBufferBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Now, truncated to whole seconds as kube-apiserver stores timestamps.</summary>
    public DateTime Now()
    {
        var now = Time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
    }

    /// <summary>
    /// apiserver's SimpleNameGenerator: <paramref name="prefix"/> (cut to 58 characters) and five random characters of an
    /// alphabet without vowels, for metadata.generateName and names admission makes up (kube-api-access-xxxxx).
    /// </summary>
    public string GenerateName(string prefix)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var builder = new StringBuilder(prefix.Length > 58 ? prefix[..58] : prefix);
        for (int i = 0; i < 5; i++)
        {
            builder.Append(alphabet[Random.Next(alphabet.Length)]);
        }

        return builder.ToString();
    }
}
