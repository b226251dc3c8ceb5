using System.Globalization;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.EtcdFront;

/// <summary>etcdctl writing through the etcd front while <c>switchboard apiserver</c> is killed with SIGKILL.</summary>
public sealed class EtcdFrontCrashTests : IDisposable
{
    private readonly TempDirectory _dir = new("switchboard-etcd-crash-");

    [Fact]
    public async Task Kill_9_under_etcdctl_writes_loses_no_acknowledged_write()
    {
        int port = FreePort.Next();
        using var server = new ApiServerProcess(_dir.Path, "sqlite", "--etcd-listen", "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture));
        string flags = $"--endpoints https://127.0.0.1:{port} --cacert {_dir.File("ca.crt")} --cert {_dir.File("etcd-client.crt")} --key {_dir.File("etcd-client.key")}";
        var etcdctl = new Dictionary<string, string> { ["ETCDCTL_API"] = "3" };
        await server.StartAsync();
        await WaitForFrontAsync(flags, etcdctl);

        // One put after another; a number is printed only once etcdctl had its answer, and the loop ends at the first failure.
        using (var writer = RunningProcess.Start("sh", ["-c", $"i=0; while true; do i=$((i+1)); etcdctl {flags} put /crash/$i v$i >/dev/null || exit 0; echo $i; done"], etcdctl))
        {
            await Eventually.WaitAsync(() => writer.StandardOutputLines.Count >= 25, "25 acknowledged puts");
            server.Kill();
            await writer.WaitForExitAsync(TimeSpan.FromSeconds(60));
            var acknowledged = writer.StandardOutputLines.Select(line => int.Parse(line, CultureInfo.InvariantCulture)).ToList();

            await server.StartAsync();
            await WaitForFrontAsync(flags, etcdctl);
            var keys = (await ChildProcess.RunAsync("sh", ["-c", $"etcdctl {flags} get /crash/ --prefix --keys-only"], etcdctl)).EnsureSuccess("etcdctl get").Stdout
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            Assert.All(acknowledged, i => Assert.Contains($"/crash/{i}", keys));
        }
    }

    public void Dispose() => _dir.Dispose();

    private static Task WaitForFrontAsync(string flags, Dictionary<string, string> environment) =>
        Eventually.WaitAsync(
            async () => (await ChildProcess.RunAsync("sh", ["-c", $"etcdctl {flags} endpoint health"], environment)).ExitCode == 0,
            "the etcd front to answer");
}
