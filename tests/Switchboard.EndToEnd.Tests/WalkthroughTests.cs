using System.Text.RegularExpressions;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// The seed's walkthrough as docs/walkthrough.md tells it, steps 1–8 in one go with the real kubectl, its client on a
/// real terminal, on each store and proxy mode a user can pick; then <c>down</c> leaves nothing of the cluster behind.
/// </summary>
public sealed partial class WalkthroughTests
{
    [Theory]
    [InlineData("sqlite", "iptables")]
    [InlineData("etcd", "iptables")]
    [InlineData("sqlite", "nftables")]
    public async Task The_seeds_walkthrough_works_end_to_end_and_down_leaves_nothing(string store, string proxyMode)
    {
        using var etcd = store == "etcd" ? new EtcdCluster() : null;
        if (etcd is not null)
        {
            await etcd.InitializeAsync();
        }

        await using var up = await SwitchboardUp.StartAsync(
            [.. etcd is null ? [] : new[] { "--store", etcd.Location.ToString() }, "--proxy-mode", proxyMode]);
        string cluster = Node.ClusterNames.FromDataDirectory(up.DataDirectory);
        var kubectl = up.Kubectl;

        // 1, 2: the namespace, then the Service and its Deployment of three nginx pods.
        Assert.Contains("namespace/critical-app created", await kubectl.OutputAsync("create", "namespace", "critical-app"));
        string created = await kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "--namespace", "critical-app");
        Assert.Contains("service/backend created", created);
        Assert.Contains("deployment.apps/backend created", created);

        // 3: describe shows the ClusterIP and, once the pods are ready, their three endpoints.
        string ip = await kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        string describe = "";
        await Eventually.WaitAsync(async () =>
        {
            describe = await kubectl.OutputAsync("describe", "service", "backend", "--namespace", "critical-app");
            return Endpoints().Match(describe) is { Success: true } endpoints && endpoints.Groups[1].Value.Split(',').Length == 3;
        }, "describe service backend to show three endpoints", TimeSpan.FromSeconds(120));
        Assert.Matches($@"IP:\s+{Regex.Escape(ip)}\b", describe);

        // 4: the client pod on a terminal, as the seed starts it.
        using var terminal = kubectl.StartOnTerminal("run", "-it", "--image=tutum/curl", "client", "--namespace", "critical-app", "--restart=Never");
        await terminal.Screen.WaitForAsync("root@client:/#", TimeSpan.FromSeconds(120));

        // 5: curl backend at its prompt prints nginx's page, and repeated requests reach all three pods.
        await terminal.TypeAsync("for i in $(seq 30); do curl -s --max-time 2 backend | grep -o 'Served by pod [a-z0-9-]*'; done; echo step-$((2+3))-done\n");
        string screen = await terminal.Screen.WaitForAsync("step-5-done", TimeSpan.FromSeconds(90));
        string[] pods = (await kubectl.OutputAsync("get", "pods", "-n", "critical-app", "-l", "role=backend", "-o", "jsonpath={.items[*].metadata.name}"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var servedBy = ServedBy().Matches(screen).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(pods.Order(StringComparer.Ordinal), servedBy.Order(StringComparer.Ordinal));

        // 6: the search path turns backend into backend.critical-app.svc.cluster.local, which answers the ClusterIP.
        await terminal.TypeAsync("getent hosts backend; echo step-$((3+3))-done\n");
        Assert.Matches($@"{Regex.Escape(ip)}\s+backend\.critical-app\.svc\.cluster\.local", await terminal.Screen.WaitForAsync("step-6-done"));
        await terminal.TypeAsync("exit\n");
        Assert.Equal(0, await terminal.WaitForExitAsync());

        // 7: the rules that sent those connections, in the node's namespace.
        string nodeNamespace = Directory.EnumerateFiles("/run/netns").Select(Path.GetFileName)
            .Single(n => n!.StartsWith($"sb-{cluster}-", StringComparison.Ordinal) && !n.Contains('_', StringComparison.Ordinal))!;
        if (proxyMode == "iptables")
        {
            string nat = (await ChildProcess.RunAsync("ip", ["netns", "exec", nodeNamespace, "iptables", "-t", "nat", "-L", "-n"])).EnsureSuccess("iptables -L").Stdout;
            string service = Regex.Match(nat, $@"(KUBE-SVC-\w+)\s+(?:tcp|6)\s+--\s+0\.0\.0\.0/0\s+{Regex.Escape(ip)}\s+/\* critical-app/backend cluster IP \*/").Groups[1].Value;
            Assert.NotEmpty(service);
            string chain = nat[nat.IndexOf("Chain " + service, StringComparison.Ordinal)..];
            chain = chain[..chain.IndexOf("\n\n", StringComparison.Ordinal)];
            Assert.Equal(3, Regex.Matches(chain, @"KUBE-SEP-\w+").Count);
            Assert.Contains("statistic mode random probability 0.33333333349", chain, StringComparison.Ordinal);
            Assert.Contains("statistic mode random probability 0.50000000000", chain, StringComparison.Ordinal);
        }
        else
        {
            string table = (await ChildProcess.RunAsync("ip", ["netns", "exec", nodeNamespace, "nft", "list", "table", "ip", "kube-proxy"])).EnsureSuccess("nft list").Stdout;
            Assert.Contains(ip, table, StringComparison.Ordinal);
            Assert.Contains("numgen random mod", table, StringComparison.Ordinal);
        }

        // 8: on etcd, the SkyDNS record the seed reads with etcdctl.
        if (etcd is not null)
        {
            string record = (await ChildProcess.RunAsync("/usr/bin/etcdctl",
                ["--endpoints=" + etcd.Members[0].ClientUrl, "get", "/skydns/local/cluster/svc/critical-app/backend", "--prefix"],
                new Dictionary<string, string> { ["ETCDCTL_API"] = "3" })).EnsureSuccess("etcdctl get").Stdout;
            Assert.Contains("/skydns/local/cluster/svc/critical-app/backend/", record, StringComparison.Ordinal);
            Assert.Contains($"\"host\":\"{ip}\"", record, StringComparison.Ordinal);
        }

        // down: no namespace, process, mount or cgroup of this cluster is left (the rules and veths lived in its namespaces).
        await up.DownAsync();
        Assert.DoesNotContain(Directory.EnumerateFiles("/run/netns").Select(Path.GetFileName), n => n!.StartsWith($"sb-{cluster}-", StringComparison.Ordinal));
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), line => line.Contains(up.DataDirectory, StringComparison.Ordinal));
        Assert.Empty(ProcessesMentioning(up.DataDirectory));
        Assert.False(Directory.Exists($"/sys/fs/cgroup/memory/switchboard/{cluster}"), "the cluster's memory cgroups are left");
        Assert.False(Directory.Exists($"/sys/fs/cgroup/cpu/switchboard/{cluster}"), "the cluster's cpu cgroups are left");
    }

    /// <summary>Every process whose command line names <paramref name="text"/> (the data dir: up, monitors, holders).</summary>
    private static List<string> ProcessesMentioning(string text)
    {
        var found = new List<string>();
        foreach (string proc in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(text, StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(proc)}: {cmdline}");
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return found;
    }

    [GeneratedRegex(@"Endpoints:\s+(\S+)")]
    private static partial Regex Endpoints();

    [GeneratedRegex(@"Served by pod (backend-[a-z0-9-]+)")]
    private static partial Regex ServedBy();
}
