using System.Diagnostics;
using Switchboard.Node.Network;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Sandbox;

/// <summary><c>switchboard down</c>'s teardown against what an agent killed mid-way leaves behind.</summary>
public sealed class NodeTeardownTests
{
    [Fact]
    public async Task A_process_left_in_a_pods_network_namespace_without_a_sandbox_state_goes_with_the_namespace()
    {
        using var dir = new TempDirectory();
        var options = new NodeOptions
        {
            NodeName = "teardown",
            ClusterName = "td" + Guid.NewGuid().ToString("N")[..6],
            StateDirectory = Path.Combine(dir.Path, "state"),
            SelfCommand = ["true"],
            CgroupRoot = dir.Path,
        };
        string ns = new NetworkNames(options.ClusterName, options.NodeName).PodNamespace("0f1e2d3c");
        (await ChildProcess.RunAsync("ip", ["netns", "add", ns])).EnsureSuccess($"ip netns add {ns}");
        // A holder whose agent died before it wrote the sandbox's state: nothing names its pid.
        using var holder = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", ns, "sleep", "infinity"])) ?? throw new InvalidOperationException("ip did not start");
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(File.Exists($"/proc/{holder.Id}/ns/net")
                && new FileInfo($"/proc/{holder.Id}/ns/net").LinkTarget != new FileInfo("/proc/self/ns/net").LinkTarget), "the holder in the pod's namespace");

            await NodeTeardown.RunAsync(options);

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
        }
    }
}
