using System.Globalization;
using System.Text.Json;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.EtcdFront;

/// <summary>The real etcdctl 3.4 (Debian etcd-client) against the etcd v3 front over SQLite, with the data dir's client certificate.</summary>
public sealed class EtcdctlTests(EtcdFrontFixture front) : IClassFixture<EtcdFrontFixture>
{
    private readonly string _prefix = $"/etcdctl/{Guid.NewGuid():N}/";

    [Fact]
    public async Task Put_get_prefix_and_delete_prefix()
    {
        (await front.EtcdctlAsync("put", _prefix + "a", "one")).EnsureSuccess("etcdctl put");
        (await front.EtcdctlAsync("put", _prefix + "b", "two")).EnsureSuccess("etcdctl put");
        (await front.EtcdctlAsync("put", _prefix + "c/d", "three")).EnsureSuccess("etcdctl put");

        var get = (await front.EtcdctlAsync("get", _prefix, "--prefix")).EnsureSuccess("etcdctl get --prefix");
        Assert.Equal([_prefix + "a", "one", _prefix + "b", "two", _prefix + "c/d", "three"], Lines(get.Stdout));

        // The API server's store sees etcdctl's writes at the revision etcdctl was told.
        var json = (await front.EtcdctlAsync("get", _prefix + "b", "-w", "json")).EnsureSuccess("etcdctl get -w json");
        long modRevision = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("kvs")[0].GetProperty("mod_revision").GetInt64();
        Assert.Equal(modRevision, (await front.Store.GetAsync(_prefix + "b"))!.ModRevision);

        var deleted = (await front.EtcdctlAsync("del", _prefix, "--prefix")).EnsureSuccess("etcdctl del --prefix");
        Assert.Equal("3", deleted.Stdout.Trim());
        Assert.Equal(0, await front.Store.CountAsync(_prefix));
    }

    [Fact]
    public async Task Get_with_keys_only_and_limit_reads_what_etcd_gives()
    {
        foreach (string name in new[] { "a", "b", "c" })
        {
            (await front.EtcdctlAsync("put", _prefix + name, "value-" + name)).EnsureSuccess("etcdctl put");
        }

        var keys = (await front.EtcdctlAsync("get", _prefix, "--prefix", "--keys-only")).EnsureSuccess("etcdctl get --keys-only");
        Assert.Equal([_prefix + "a", _prefix + "b", _prefix + "c"], Lines(keys.Stdout));

        var limited = (await front.EtcdctlAsync("get", _prefix, "--prefix", "--limit", "2", "-w", "json")).EnsureSuccess("etcdctl get --limit");
        var page = JsonDocument.Parse(limited.Stdout).RootElement;
        Assert.Equal(2, page.GetProperty("kvs").GetArrayLength());
        Assert.True(page.GetProperty("more").GetBoolean());
        Assert.Equal(3, page.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Txn_is_one_revision_and_a_watch_from_a_revision_shows_it_with_previous_values()
    {
        var first = await front.Store.PutAsync(_prefix + "x", Bytes("old"));
        string script = Path.Combine(front.DataDirectory, $"txn-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(script, $"value(\"{_prefix}x\") = \"old\"\n\nput {_prefix}x new\nput {_prefix}y made\n\nput {_prefix}z failed\n\n");
        var txn = (await ChildProcess.RunAsync("sh", ["-c", $"etcdctl {string.Join(' ', front.EtcdctlFlags)} txn < {script}"], new Dictionary<string, string> { ["ETCDCTL_API"] = "3" })).EnsureSuccess("etcdctl txn");
        Assert.Equal(["SUCCESS", "OK", "OK"], Lines(txn.Stdout));

        var x = (await front.Store.GetAsync(_prefix + "x"))!;
        Assert.Equal(x.ModRevision, (await front.Store.GetAsync(_prefix + "y"))!.ModRevision);
        Assert.Null(await front.Store.GetAsync(_prefix + "z"));

        using var watch = RunningProcess.Start("etcdctl", [.. front.EtcdctlFlags, "watch", "--prefix", _prefix, "--rev", (first.ModRevision + 1).ToString(CultureInfo.InvariantCulture), "--prev-kv"], new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        await watch.WaitForLineAsync(line => line == "made", "the txn's second put");

        // etcdctl prints each event as its type, [the previous key and value,] then the key and value.
        Assert.Equal(["PUT", _prefix + "x", "old", _prefix + "x", "new", "PUT", _prefix + "y", "made"], watch.StandardOutputLines.Take(8));
    }

    [Fact]
    public async Task A_leased_key_lives_while_kept_alive_and_goes_when_the_lease_expires()
    {
        var grant = (await front.EtcdctlAsync("lease", "grant", "2")).EnsureSuccess("etcdctl lease grant");
        string lease = grant.Stdout.Split(' ')[1];
        (await front.EtcdctlAsync("put", "--lease=" + lease, _prefix + "leased", "v")).EnsureSuccess("etcdctl put --lease");
        var ttl = (await front.EtcdctlAsync("lease", "timetolive", lease, "--keys")).EnsureSuccess("etcdctl lease timetolive");
        Assert.Contains($"attached keys([{_prefix}leased])", ttl.Stdout, StringComparison.Ordinal);
        var keepAlive = (await front.EtcdctlAsync("lease", "keep-alive", "--once", lease)).EnsureSuccess("etcdctl lease keep-alive --once");
        Assert.Contains($"lease {lease} keepalived with TTL(2)", keepAlive.Stdout, StringComparison.Ordinal);

        await Eventually.WaitAsync(async () => await front.Store.GetAsync(_prefix + "leased") is null, "the leased key to go with its lease", TimeSpan.FromSeconds(20));
        var expired = (await front.EtcdctlAsync("lease", "timetolive", lease)).EnsureSuccess("etcdctl lease timetolive");
        Assert.Contains("already expired", expired.Stdout, StringComparison.Ordinal);
        Assert.Empty((await front.EtcdctlAsync("get", _prefix + "leased")).EnsureSuccess("etcdctl get").Stdout.Trim());
    }

    [Fact]
    public async Task Compaction_makes_older_revisions_unreadable()
    {
        var old = await front.Store.PutAsync(_prefix + "k", Bytes("1"));
        var current = await front.Store.PutAsync(_prefix + "k", Bytes("2"));

        (await front.EtcdctlAsync("compaction", current.ModRevision.ToString(CultureInfo.InvariantCulture))).EnsureSuccess("etcdctl compaction");

        var below = await front.EtcdctlAsync("get", _prefix + "k", "--rev", old.ModRevision.ToString(CultureInfo.InvariantCulture));
        Assert.NotEqual(0, below.ExitCode);
        Assert.Contains("required revision has been compacted", below.Stderr, StringComparison.Ordinal);
        var at = (await front.EtcdctlAsync("get", _prefix + "k", "--rev", current.ModRevision.ToString(CultureInfo.InvariantCulture))).EnsureSuccess("etcdctl get --rev");
        Assert.Equal([_prefix + "k", "2"], Lines(at.Stdout));
    }

    [Fact]
    public async Task Endpoint_status_and_member_list_describe_one_member()
    {
        await front.Store.PutAsync(_prefix + "k", Bytes("v"));
        var status = (await front.EtcdctlAsync("endpoint", "status", "-w", "json")).EnsureSuccess("etcdctl endpoint status");
        var entry = JsonDocument.Parse(status.Stdout).RootElement[0];
        var answer = entry.GetProperty("Status");
        Assert.Equal(front.Endpoint, entry.GetProperty("Endpoint").GetString());
        Assert.Equal(answer.GetProperty("header").GetProperty("member_id").GetUInt64(), answer.GetProperty("leader").GetUInt64());
        Assert.Equal(await front.Store.GetRevisionAsync(), answer.GetProperty("header").GetProperty("revision").GetInt64());
        Assert.True(answer.GetProperty("dbSize").GetInt64() > 0);

        var members = (await front.EtcdctlAsync("member", "list", "-w", "json")).EnsureSuccess("etcdctl member list");
        var member = Assert.Single(JsonDocument.Parse(members.Stdout).RootElement.GetProperty("members").EnumerateArray());
        Assert.Equal(front.Endpoint, Assert.Single(member.GetProperty("clientURLs").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task A_client_without_a_certificate_from_the_cluster_ca_is_refused()
    {
        var refused = await ChildProcess.RunAsync(
            "etcdctl",
            ["--endpoints", front.Endpoint, "--cacert", front.Front.CaFile, "--dial-timeout", "3s", "--command-timeout", "5s", "get", "/x"],
            new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });

        Assert.NotEqual(0, refused.ExitCode);
    }

    internal static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
