using System.Globalization;
using System.Reflection;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;
using Xunit.Abstractions;

namespace Switchboard.Storage.Tests.Sqlite;

/// <summary>
/// kill -9 in the middle of concurrent writes: every write the child saw acknowledged is there after
/// reopening, with the revision it was acknowledged at, and the revisions have no holes.
/// </summary>
public sealed class SqliteCrashTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Replays the kill delays of a failed run: the test prints the seed it drew them from.</summary>
    private const string SeedVariable = "SWITCHBOARD_CRASH_SEED";

    private readonly TempDirectory _directory = new("switchboard-sqlite-");

    private string StorePath => _directory.File("store.db");

    [Fact]
    public async Task Acknowledged_writes_survive_kill_9_and_revisions_have_no_holes()
    {
        int seed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } given ? int.Parse(given, CultureInfo.InvariantCulture) : Random.Shared.Next();
        output.WriteLine($"kill delays drawn from seed {seed}; replay with {SeedVariable}={seed}");
        var random = new Random(seed);
        var acknowledged = new Dictionary<string, long>();
        for (int round = 0; round < 2; round++)
        {
            foreach (var (key, revision) in await RunAndKillWriterAsync($"/round{round}", TimeSpan.FromMilliseconds(random.Next(500, 2000))))
            {
                acknowledged.Add(key, revision);
            }

            await using var store = SqliteKeyValueStore.Open(StorePath);
            long storeRevision = await store.GetRevisionAsync();
            var all = await store.RangeAsync(string.Empty, default);

            // Every write creates a new key, so the live keys' revisions are the whole history.
            Assert.Equal(Enumerable.Range(1, (int)storeRevision).Select(r => (long)r), all.Items.Select(i => i.ModRevision).Order());
            var byKey = all.Items.ToDictionary(i => i.Key);
            foreach (var (key, revision) in acknowledged)
            {
                Assert.True(byKey.TryGetValue(key, out var kv), $"acknowledged key {key} is lost");
                Assert.Equal(revision, kv.ModRevision);
                Assert.Equal(1024, kv.Value.Length);
            }

            Assert.True(acknowledged.Count > 0, "the writer acknowledged nothing before it was killed");
        }
    }

    public void Dispose() => _directory.Dispose();

    private async Task<List<(string Key, long Revision)>> RunAndKillWriterAsync(string prefix, TimeSpan killAfter)
    {
        string writerPath = typeof(SqliteCrashTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "CrashWriterPath").Value!;
        Assert.True(File.Exists(writerPath), $"the crash writer is not built at {writerPath}");
        using var writer = RunningProcess.Start(ChildProcess.DotnetHost, [writerPath, StorePath, "16", prefix]);
        await writer.WaitForLineAsync(line => line == "ready", "ready", TimeSpan.FromSeconds(60));
        await Task.Delay(killAfter);
        Assert.False(writer.HasExited, $"the writer exited early:\n{writer.Output}");
        writer.Kill(); // SIGKILL on Linux

        // The child prints each line with one write to the pipe; anything malformed would not count as acknowledged.
        return writer.StandardOutputLines
            .Select(line => line.Split(' '))
            .Where(parts => parts.Length == 2 && long.TryParse(parts[1], out _))
            .Select(parts => (parts[0], long.Parse(parts[1], CultureInfo.InvariantCulture)))
            .ToList();
    }
}
