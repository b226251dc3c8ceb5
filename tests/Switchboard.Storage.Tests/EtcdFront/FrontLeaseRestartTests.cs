using Switchboard.Testing;

namespace Switchboard.Storage.Tests.EtcdFront;

/// <summary>
/// etcdctl's leases across a restart of the server on the same data dir: as etcd persists them, a lease and its keys
/// survive, the TTL counts again from the restart, and revoke still deletes the keys.
/// </summary>
public sealed class FrontLeaseRestartTests(EtcdFrontFixture front) : IClassFixture<EtcdFrontFixture>
{
    private readonly string _prefix = $"/lease-restart/{Guid.NewGuid():N}/";

    [Fact]
    public async Task A_leased_key_survives_a_restart_and_goes_when_the_lease_expires_after_it()
    {
        string lease = await GrantAsync(4);
        (await front.EtcdctlAsync("put", "--lease=" + lease, _prefix + "expiring", "v")).EnsureSuccess("etcdctl put --lease");

        await front.RestartAsync();

        Assert.Equal([_prefix + "expiring", "v"], EtcdctlTests.Lines((await front.EtcdctlAsync("get", _prefix + "expiring")).EnsureSuccess("etcdctl get after the restart").Stdout));
        var ttl = (await front.EtcdctlAsync("lease", "timetolive", lease, "--keys")).EnsureSuccess("etcdctl lease timetolive after the restart");
        Assert.Contains($"attached keys([{_prefix}expiring])", ttl.Stdout, StringComparison.Ordinal);

        await Eventually.WaitAsync(async () => await front.Store.GetAsync(_prefix + "expiring") is null, "the key to go when its lease expires after the restart");
        Assert.Contains("already expired", (await front.EtcdctlAsync("lease", "timetolive", lease)).EnsureSuccess("etcdctl lease timetolive").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lease_revoked_after_a_restart_takes_its_keys()
    {
        string lease = await GrantAsync(600);
        (await front.EtcdctlAsync("put", "--lease=" + lease, _prefix + "a", "1")).EnsureSuccess("etcdctl put --lease");
        (await front.EtcdctlAsync("put", "--lease=" + lease, _prefix + "b", "2")).EnsureSuccess("etcdctl put --lease");

        await front.RestartAsync();

        Assert.Contains(lease, (await front.EtcdctlAsync("lease", "list")).EnsureSuccess("etcdctl lease list").Stdout, StringComparison.Ordinal);
        (await front.EtcdctlAsync("lease", "revoke", lease)).EnsureSuccess("etcdctl lease revoke after the restart");
        Assert.Empty((await front.EtcdctlAsync("get", _prefix, "--prefix")).EnsureSuccess("etcdctl get --prefix").Stdout.Trim());
        var again = await front.EtcdctlAsync("lease", "revoke", lease);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("requested lease not found", again.Stderr, StringComparison.Ordinal);
    }

    private async Task<string> GrantAsync(int ttl) =>
        (await front.EtcdctlAsync("lease", "grant", ttl.ToString(System.Globalization.CultureInfo.InvariantCulture))).EnsureSuccess("etcdctl lease grant").Stdout.Split(' ')[1];
}
