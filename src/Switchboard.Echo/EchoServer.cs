using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Web;

namespace Switchboard.Echo;

/// <summary>
/// The <c>switchboard/echo</c> image (agnhost netexec's behaviour): HTTP on --http-port with /hostname, /clientip,
/// /echo?msg= (or msg in a POSTed form, as netexec's FormValue reads it), /healthz and a refused /shell; UDP on --udp-port (default: the HTTP port) answering "hostname",
/// "echo TEXT" and "clientip".
/// </summary>
public static class EchoServer
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        int httpPort = Flag(args, "--http-port") ?? 8080;
        int udpPort = Flag(args, "--udp-port") ?? httpPort;
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://+:{httpPort}/");
        listener.Start();
        using var udp = udpPort > 0 ? new UdpClient(new IPEndPoint(IPAddress.Any, udpPort)) : null;
        Console.WriteLine($"Started HTTP server on port {httpPort}");
        await using var registration = cancellationToken.Register(listener.Stop);
        var udpLoop = udp is null ? Task.CompletedTask : ServeUdpAsync(udp, cancellationToken);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var context = await listener.GetContextAsync();
                _ = Task.Run(() => Handle(context), cancellationToken);
            }
        }
        catch (HttpListenerException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await udpLoop;
        return 0;
    }

    private static void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        string path = request.Url?.AbsolutePath ?? "/";
        Console.WriteLine($"{request.HttpMethod} {request.Url?.PathAndQuery} from {request.RemoteEndPoint}");
        (int code, string body) = path switch
        {
            "/" or "/hostname" => (200, Dns.GetHostName()),
            "/clientip" => (200, request.RemoteEndPoint.ToString()),
            "/echo" => (200, Message(request)),
            "/healthz" => (200, "ok"),
            "/shell" => (403, "shell is refused: this echo server runs no commands"),
            _ => (404, "404 page not found\n"),
        };
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        response.StatusCode = code;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
        response.Close();
    }

    /// <summary>Go's <c>Request.FormValue("msg")</c>: a url-encoded form body's value first, then the query's.</summary>
    private static string Message(HttpListenerRequest request)
    {
        if (request.HasEntityBody && request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var reader = new StreamReader(request.InputStream, request.ContentEncoding);
            if (HttpUtility.ParseQueryString(reader.ReadToEnd())["msg"] is { } posted)
            {
                return posted;
            }
        }

        return request.QueryString["msg"] ?? "";
    }

    private static async Task ServeUdpAsync(UdpClient udp, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var received = await udp.ReceiveAsync(cancellationToken);
                string text = Encoding.UTF8.GetString(received.Buffer).Trim();
                string answer = text == "hostname" ? Dns.GetHostName()
                    : text == "clientip" ? received.RemoteEndPoint.ToString()
                    : text.StartsWith("echo ", StringComparison.Ordinal) ? text[5..]
                    : "";
                await udp.SendAsync(Encoding.UTF8.GetBytes(answer), received.RemoteEndPoint, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static int? Flag(IReadOnlyList<string> args, string name)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return int.Parse(args[i][(name.Length + 1)..], CultureInfo.InvariantCulture);
            }

            if (args[i] == name && i + 1 < args.Count)
            {
                return int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }
}
