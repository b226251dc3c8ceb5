using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Switchboard.Kube.Hosting;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>A component that fails stops all of <c>switchboard up</c> with one line naming it and a non-zero exit.</summary>
public sealed class ComponentFailureTests : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("sb-e2e-fail-").FullName;
    private readonly int _dnsPort = FreePort.Next();

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>The node may have made its namespace and cgroups before the failure stopped up: down removes them.</summary>
    public async Task DisposeAsync()
    {
        (await SwitchboardUp.RunAsync("down", "--data-dir", _dataDir)).EnsureSuccess("switchboard down");
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task Dns_failing_after_it_serves_ends_up_with_the_error_naming_dns()
    {
        var up = await RunUpAsync(new Dictionary<string, string> { [Component.FaultVariable] = "dns" });

        AssertFailedWith(up, $"dns failed: failed on purpose ({Component.FaultVariable}=dns)");
        Assert.Contains("API server serving on", up.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dataDir, "switchboard.pid")), "up left its pid file behind");
    }

    [Fact]
    public async Task A_taken_dns_port_ends_up_at_start_with_the_error_naming_dns()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, _dnsPort));

        var up = await RunUpAsync();

        AssertFailedWith(up, $"dns failed: cannot listen on 127.0.0.1:{_dnsPort}: Address already in use");
    }

    private Task<ProcessResult> RunUpAsync(Dictionary<string, string>? environment = null) => ChildProcess.RunAsync(
        SwitchboardUp.Program,
        [
            .. SwitchboardUp.Arguments("up", "--data-dir", _dataDir),
            "--api-port", FreePort.Next().ToString(CultureInfo.InvariantCulture),
            "--dns-port", _dnsPort.ToString(CultureInfo.InvariantCulture),
            "--dns-metrics", "127.0.0.1:" + FreePort.Next().ToString(CultureInfo.InvariantCulture),
            "--kubelet-port", FreePort.Next().ToString(CultureInfo.InvariantCulture),
            "--etcd-listen", "127.0.0.1:" + FreePort.Next().ToString(CultureInfo.InvariantCulture),
        ],
        environment);

    private static void AssertFailedWith(ProcessResult up, string error)
    {
        string output = up.Stdout + up.Stderr;
        Assert.True(up.ExitCode == 1, $"switchboard up exited {up.ExitCode}:\n{output}");
        string[] failures = [.. output.Split('\n').Where(line => line.Contains(" failed: ", StringComparison.Ordinal))];
        Assert.True(failures.Length == 1 && failures[0].TrimEnd().EndsWith(error, StringComparison.Ordinal), $"expected one line ending '{error}':\n{output}");
    }
}
