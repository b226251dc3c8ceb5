using System.Globalization;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>What a user sees when <c>switchboard up</c> starts: a missing tool named with its package, progress on a terminal, one summary.</summary>
public sealed class UpStartTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Directory.CreateTempSubdirectory("sb-e2e-start-").FullName, "data");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        (await SwitchboardUp.RunAsync("down", "--data-dir", _dataDir)).EnsureSuccess("switchboard down");
        Directory.Delete(Path.GetDirectoryName(_dataDir)!, recursive: true);
    }

    [Fact]
    public async Task Missing_tools_are_named_with_their_Debian_packages_and_up_starts_nothing()
    {
        // A machine without the packages that install into /usr/sbin (conntrack, iptables, nginx):
        // an empty /usr/sbin in a mount namespace of up's own.
        var up = await ChildProcess.RunAsync("unshare",
            ["--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs none /usr/sbin && exec \"$@\"", "sh", .. UpArgs()]);

        string output = up.Stdout + up.Stderr;
        Assert.True(up.ExitCode == 1, $"up exited {up.ExitCode}:\n{output}");
        Assert.Contains("conntrack (Debian package conntrack)", output, StringComparison.Ordinal);
        Assert.Contains("iptables-restore (Debian package iptables)", output, StringComparison.Ordinal);
        Assert.Contains("nginx (Debian package nginx)", output, StringComparison.Ordinal);
        Assert.Contains("apt-get install conntrack iptables nginx", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dataDir), "up made its data dir although it could not run");
    }

    [Fact]
    public async Task On_a_terminal_up_shows_each_component_getting_ready_then_one_summary()
    {
        string command = string.Join(' ', UpArgs().Select(a => "'" + a + "'"));
        using var terminal = RunningProcess.Start("script", ["-qfec", command, "/dev/null"]);

        await terminal.WaitForLineAsync(line => line.Contains("switchboard is up in", StringComparison.Ordinal), "the summary", TimeSpan.FromSeconds(90));
        await terminal.WaitForLineAsync(line => line.Contains("stop", StringComparison.Ordinal), "the summary's last line");

        string screen = terminal.Output;
        foreach (string component in new[] { "apiserver", "controllers", "dns", "node", "proxy" })
        {
            Assert.Matches($@"{component}\S*\s+\S*ready in \d+\.\d s", screen);
        }

        Assert.Contains("programming the service rules", screen, StringComparison.Ordinal);
        Assert.Contains($"export KUBECONFIG={_dataDir}/kubeconfig", screen, StringComparison.Ordinal);
        Assert.Contains("iptables, rules in network namespace sb-", screen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_terminal_up_says_how_to_reach_the_cluster_in_one_log_line()
    {
        await using var up = await SwitchboardUp.StartAsync();

        await Eventually.WaitAsync(() => Task.FromResult(up.Log.Contains(" up in ", StringComparison.Ordinal)), "the summary line");
        string summary = up.Log.Split('\n').Single(line => line.Contains(" up in ", StringComparison.Ordinal));
        Assert.Contains($"API https://127.0.0.1:{up.ApiPort.ToString(CultureInfo.InvariantCulture)}", summary, StringComparison.Ordinal);
        Assert.Contains($"export KUBECONFIG={up.DataDirectory}/kubeconfig", summary, StringComparison.Ordinal);
        Assert.Contains($"DNS 127.0.0.1:{up.DnsPort.ToString(CultureInfo.InvariantCulture)}", summary, StringComparison.Ordinal);
        Assert.Contains("proxy iptables", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", up.Log, StringComparison.Ordinal);
    }

    private string[] UpArgs() =>
    [
        SwitchboardUp.Program, .. SwitchboardUp.Arguments("up", "--data-dir", _dataDir),
        "--api-port", FreePort.Next().ToString(CultureInfo.InvariantCulture),
        "--dns-port", FreePort.Next().ToString(CultureInfo.InvariantCulture),
        "--dns-metrics", "127.0.0.1:" + FreePort.Next().ToString(CultureInfo.InvariantCulture),
        "--kubelet-port", FreePort.Next().ToString(CultureInfo.InvariantCulture),
        "--proxy-metrics-port", FreePort.Next().ToString(CultureInfo.InvariantCulture),
        "--etcd-listen", "127.0.0.1:" + FreePort.Next().ToString(CultureInfo.InvariantCulture),
    ];
}
