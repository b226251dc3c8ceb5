using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Node.Network;
using Switchboard.Node.Sandbox;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Sandbox;

/// <summary>
/// A holder whose agent died before it wrote the sandbox's state (nothing names its pid) must go with its pod's
/// namespace, whichever path removes it: <c>switchboard down</c>'s teardown, or a restarted agent removing the sandbox.
/// </summary>
public sealed class StatelessHolderTests
{
    private const string Uid = "0f1e2d3c";

    [Fact]
    public Task Down_kills_it_before_deleting_the_namespace() =>
        AssertHolderKilledAsync(options => NodeTeardown.RunAsync(options));

    [Fact]
    public Task A_restarted_agent_removing_the_sandbox_kills_it_before_deleting_the_namespace() =>
        AssertHolderKilledAsync(options =>
        {
            var cidr = PodCidr.Parse("10.244.250.0/24");
            var network = new NodeNetwork(new NetworkNames(options.ClusterName, options.NodeName), cidr, "10.96.0.0/12");
            var sandboxes = new SandboxManager(network, new Ipam(options.StateDirectory, cidr), cgroups: null, options, TimeProvider.System, NullLogger.Instance);
            return sandboxes.RemoveAsync(Uid, CancellationToken.None);
        });

    private static async Task AssertHolderKilledAsync(Func<NodeOptions, Task> remove)
    {
        using var dir = new TempDirectory();
        var options = new NodeOptions
        {
            NodeName = "stateless",
            ClusterName = "sh" + Guid.NewGuid().ToString("N")[..6],
            StateDirectory = Path.Combine(dir.Path, "state"),
            SelfCommand = ["true"],
            CgroupRoot = dir.Path,
        };
        string ns = new NetworkNames(options.ClusterName, options.NodeName).PodNamespace(Uid);
        (await ChildProcess.RunAsync("ip", ["netns", "add", ns])).EnsureSuccess($"ip netns add {ns}");
        using var holder = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", ns, "sleep", "infinity"])) ?? throw new InvalidOperationException("ip did not start");
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(File.Exists($"/proc/{holder.Id}/ns/net")
                && new FileInfo($"/proc/{holder.Id}/ns/net").LinkTarget != new FileInfo("/proc/self/ns/net").LinkTarget), "the holder in the pod's namespace");

            await remove(options);

            Assert.True(holder.WaitForExit(TimeSpan.FromSeconds(10)), "the process in the pod's namespace still runs");
            Assert.DoesNotContain(ns, (await ChildProcess.RunAsync("ip", ["netns", "list"])).Stdout, StringComparison.Ordinal);
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }

            await ChildProcess.RunAsync("ip", ["netns", "del", ns]);
            RunTmpfs.Remove(options.RunDirectory);
        }
    }
}
