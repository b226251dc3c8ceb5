using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Switchboard.Kube.Networking;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Kubelet;

/// <summary>One attempt of a probe (httpGet, tcpSocket or exec) with kubelet's success rules and failure texts.</summary>
internal sealed class ProbeRunner(NetnsDialer dialer)
{
    private const int MaxOutput = 10 * 1024;
    private readonly HttpClient _http = dialer.CreateHttpClient();

    /// <summary>Runs <paramref name="probe"/> against a container of the pod at <paramref name="podIp"/> whose exec commands run at <paramref name="target"/>.</summary>
    public async Task<(bool Success, string Output)> RunAsync(V1Probe probe, V1Container container, string podIp, ExecTarget target, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(Math.Max(1, probe.TimeoutSeconds ?? 1));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        if (probe.HttpGet is { } http)
        {
            return await HttpAsync(http, container, podIp, hook: false, limit.Token, cancellationToken);
        }

        if (probe.TcpSocket is { } tcp)
        {
            string host = string.IsNullOrEmpty(tcp.Host) ? podIp : tcp.Host;
            int port = Port(tcp.Port, container);
            try
            {
                using var socket = await dialer.ConnectAsync(new IPEndPoint(IPAddress.Parse(host), port), limit.Token);
                return (true, "");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return (false, $"dial tcp {host}:{port}: " + (e is SocketException s ? "connect: " + GoError(s) : "i/o timeout"));
            }
        }

        if (probe.Exec is { } exec)
        {
            return await ExecAsync(exec.Command ?? [], target, timeout, cancellationToken);
        }

        return (false, "probe has no handler");
    }

    /// <summary>
    /// A lifecycle hook (kubelet's handlers.go): exec or httpGet (where only a failed request fails: a hook's response
    /// status is not judged), or sleep; bounded by <paramref name="timeout"/>.
    /// </summary>
    public async Task<(bool Success, string Output)> RunHookAsync(V1LifecycleHandler handler, V1Container container, string podIp, ExecTarget target, TimeSpan timeout,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (handler.Exec is { } exec)
        {
            return await ExecAsync(exec.Command ?? [], target, timeout, cancellationToken);
        }

        if (handler.HttpGet is { } http)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            return await HttpAsync(http, container, podIp, hook: true, limit.Token, cancellationToken);
        }

        if (handler.Sleep is { } sleep)
        {
            var wanted = TimeSpan.FromSeconds(sleep.Seconds);
            await Task.Delay(wanted < timeout ? wanted : timeout, time, cancellationToken);
            return (true, "");
        }

        return (false, "a lifecycle hook needs exec, httpGet or sleep");
    }

    private async Task<(bool, string)> HttpAsync(V1HTTPGetAction action, V1Container container, string podIp, bool hook, CancellationToken limit, CancellationToken cancellationToken)
    {
        var (url, host, port) = Target(action, container, podIp);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("User-Agent", hook ? "kube-lifecycle/1.33" : "kube-probe/1.33");
        request.Headers.TryAddWithoutValidation("Accept", "*/*");
        foreach (var header in action.HttpHeaders ?? [])
        {
            if (header.Name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.Host = header.Value;
            }
            else
            {
                request.Headers.Remove(header.Name);
                if (header.Value.Length > 0)
                {
                    request.Headers.TryAddWithoutValidation(header.Name, header.Value);
                }
            }
        }

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit);
            int code = (int)response.StatusCode;
            return hook || code is >= 200 and < 400 ? (true, "") : (false, $"HTTP probe failed with statuscode: {code}");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            string reason = e is HttpRequestException { InnerException: SocketException s } ? "dial tcp " + $"{host}:{port}: connect: " + GoError(s)
                : e is OperationCanceledException ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                : e.Message;
            return (false, $"Get \"{url}\": {reason}");
        }
    }

    /// <summary>Runs the command inside the pod's namespaces; exit 0 is success, the output (≤ 10 KiB) explains a failure.</summary>
    private static async Task<(bool, string)> ExecAsync(IList<string> command, ExecTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string arg in (string[])[.. target.NsenterArgs(), .. command])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("nsenter did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return (false, $"command \"{string.Join(' ', command)}\" timed out");
        }

        string output = await stdout + await stderr;
        if (output.Length > MaxOutput)
        {
            output = output[..MaxOutput];
        }

        return (process.ExitCode == 0, output);
    }

    /// <summary>What a probe that dials (httpGet, tcpSocket) reports when its dial is refused, as kubelet words it.</summary>
    public static string RefusedOutput(V1Probe probe, V1Container container, string podIp)
    {
        if (probe.HttpGet is { } http)
        {
            var (url, host, port) = Target(http, container, podIp);
            return $"Get \"{url}\": {Refused(host, port)}";
        }

        var tcp = probe.TcpSocket ?? throw new ArgumentException("the probe dials nothing", nameof(probe));
        return Refused(string.IsNullOrEmpty(tcp.Host) ? podIp : tcp.Host, Port(tcp.Port, container));
    }

    private static string Refused(string host, int port) => $"dial tcp {host}:{port}: connect: connection refused";

    private static (Uri Url, string Host, int Port) Target(V1HTTPGetAction action, V1Container container, string podIp)
    {
        string scheme = (action.Scheme ?? "HTTP").ToLowerInvariant();
        string host = string.IsNullOrEmpty(action.Host) ? podIp : action.Host;
        int port = Port(action.Port, container);
        string path = string.IsNullOrEmpty(action.Path) ? "/" : action.Path.StartsWith('/') ? action.Path : "/" + action.Path;
        return (new Uri($"{scheme}://{host}:{port}{path}"), host, port);
    }

    private static int Port(IntOrString port, V1Container container) =>
        PortOf(port, container) ?? throw new InvalidOperationException($"port \"{port.Value}\" is not a named port of the container");

    /// <summary>The port number, or the container's port of that name; null when it has none.</summary>
    internal static int? PortOf(IntOrString port, V1Container container)
    {
        string value = port.Value;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number)
            ? number
            : container.Ports?.FirstOrDefault(p => p.Name == value)?.ContainerPort;
    }

    private static string GoError(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostUnreachable => "no route to host",
        SocketError.NetworkUnreachable => "network is unreachable",
        _ => e.Message.ToLowerInvariant(),
    };
}
