using System.Diagnostics;
using System.Globalization;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>Components run as their own processes against the API server, as on a cluster spanning machines.</summary>
public sealed class ComponentCommandTests : SwitchboardUpTestBase
{
    [Fact]
    public async Task Readyz_verbose_lists_every_component_of_up_and_dns_ready_answers_from_the_same_checks()
    {
        string readyz = await Up.Kubectl.OutputAsync("get", "--raw", "/readyz?verbose");
        using var http = new HttpClient();
        using var dnsReady = await http.GetAsync(new Uri($"http://127.0.0.1:{Up.DnsMetricsPort}/ready"));

        Assert.Equal("[+]apiserver ok\n[+]controllers ok\n[+]dns ok\nreadyz check passed\n", readyz);
        Assert.Equal(System.Net.HttpStatusCode.OK, dnsReady.StatusCode);
    }

    [Fact]
    public async Task Switchboard_dns_alone_answers_from_the_api_server_of_its_kubeconfig()
    {
        int port = FreePort.Next();
        var start = new ProcessStartInfo(SwitchboardUp.DotnetHost) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[]
        {
            SwitchboardUp.ExecutablePath, "dns", "--kubeconfig", Up.Kubectl.KubeconfigPath,
            "--listen", $"127.0.0.1:{port}", "--metrics", $"127.0.0.1:{FreePort.Next()}", "--upstream", "127.0.0.1:9",
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var dns = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        dns.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        dns.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        dns.BeginOutputReadLine();
        dns.BeginErrorReadLine();
        try
        {
            string portText = port.ToString(CultureInfo.InvariantCulture);
            await Eventually.WaitAsync(
                async () => dns.HasExited || (await ChildProcess.RunAsync("dig", ["+short", "+tries=1", "+time=1", "@127.0.0.1", "-p", portText, "kubernetes.default.svc.cluster.local"])).Stdout.Trim() == "10.96.0.1",
                "switchboard dns to answer kubernetes.default with the API server's ClusterIP");
            Assert.False(dns.HasExited, "switchboard dns exited:\n" + string.Join('\n', output));

            var nx = await ChildProcess.RunAsync("dig", ["@127.0.0.1", "-p", portText, "nosuch.default.svc.cluster.local"]);
            Assert.Contains("status: NXDOMAIN", nx.Stdout);
        }
        finally
        {
            if (!dns.HasExited)
            {
                dns.Kill();
                await dns.WaitForExitAsync();
            }
        }
    }
}
