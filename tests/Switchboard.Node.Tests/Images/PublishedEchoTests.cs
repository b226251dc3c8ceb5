using System.Net;
using System.Net.Sockets;
using System.Text;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Images;

/// <summary>
/// The echo image's program as scripts/publish.sh ships it (the build's tests run its managed assembly): compiled
/// ahead of time, trimmed, it must still answer agnhost netexec's routes and UDP requests.
/// </summary>
public class PublishedEchoTests
{
    [Fact]
    public async Task The_published_echo_program_is_native_and_serves_netexecs_routes_and_udp()
    {
        using var dir = new TempDirectory();
        var publish = await ChildProcess.RunAsync("bash", [SharedFiles.Script("publish.sh"), dir.Path, "echo"], timeout: TimeSpan.FromMinutes(10));
        Assert.True(publish.ExitCode == 0, $"publish.sh failed:\n{publish.Stdout}\n{publish.Stderr}");
        // An apphost would need its assembly beside it: native code runs alone.
        Assert.False(File.Exists(dir.File("switchboard-echo.dll")), "an assembly was published beside the program: it is not native");

        int port = FreePort.Next();
        using var server = RunningProcess.Start(dir.File("switchboard-echo"), [$"--http-port={port}"]);
        await server.WaitForLineAsync(line => line.Contains($"Started HTTP server on port {port}", StringComparison.Ordinal), "the server's start");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Equal(System.Net.Dns.GetHostName(), await http.GetStringAsync("/hostname"));
        Assert.Equal("hi there", await http.GetStringAsync("/echo?msg=hi%20there"));
        using var form = new FormUrlEncodedContent([new("msg", "posted")]);
        Assert.Equal("posted", await (await http.PostAsync("/echo", form)).Content.ReadAsStringAsync());
        Assert.StartsWith("127.0.0.1:", await http.GetStringAsync("/clientip"), StringComparison.Ordinal);
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/shell?cmd=id")).StatusCode);

        using var udp = new UdpClient(AddressFamily.InterNetwork);
        udp.Connect(IPAddress.Loopback, port);
        await udp.SendAsync(Encoding.UTF8.GetBytes("echo over udp"));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = await udp.ReceiveAsync(wait.Token);
        Assert.Equal("over udp", Encoding.UTF8.GetString(answer.Buffer));
    }
}
