using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Switchboard.Kube.Client;
using Switchboard.Kube.Trace;

namespace Switchboard.Commands;

/// <summary>
/// <c>switchboard ui</c>: a one-time login URL for the web view (<c>/ui/</c> on the API server), minted by the API
/// server for the kubeconfig's token, so nobody pastes the token into a browser; opened with the desktop's browser,
/// or printed (<c>--print-url</c>, or when there is no browser to open).
/// </summary>
internal static class UiCommand
{
    public static Command Create()
    {
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "kubeconfig of the cluster (default: $KUBECONFIG, then ~/.kube/config)" };
        var printUrl = new Option<bool>("--print-url") { Description = "Print the login URL instead of opening a browser" };
        var command = new Command("ui", "Open the web view (services, pods, live flows) with a one-time login URL") { kubeconfig, printUrl };
        command.SetAction(async (result, cancellationToken) =>
        {
            string? path = result.GetValue(kubeconfig)?.FullName ?? TraceCommand.KubeconfigPath();
            if (path is null || !File.Exists(path))
            {
                await Console.Error.WriteLineAsync("error: no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG");
                return 1;
            }

            var config = KubeconfigLoader.Load(path);
            if (config.AccessToken is not { Length: > 0 } token)
            {
                await Console.Error.WriteLineAsync($"error: the user of {path} has no token: the web view logs in with a bearer token");
                return 1;
            }

            Uri url;
            try
            {
                using var http = new HttpClient(TraceSource.Handler(config)) { Timeout = TimeSpan.FromSeconds(30) };
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(config.Host.TrimEnd('/') + "/"), "ui/login-links"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
                string body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (!response.IsSuccessStatusCode || JsonNode.Parse(body)?["path"] is not JsonValue link)
                {
                    await Console.Error.WriteLineAsync($"error: the API server did not mint a login link ({(int)response.StatusCode}): {(string?)JsonNode.Parse(body)?["message"] ?? body}");
                    return 1;
                }

                url = new Uri(new Uri(config.Host.TrimEnd('/') + "/"), (string)link!);
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"error: cannot reach the API server: {e.Message}");
                return 1;
            }

            if (!result.GetValue(printUrl) && TryOpen(url))
            {
                await Console.Out.WriteLineAsync($"Opened the web view in your browser (the link works once, for a minute): {new Uri(url, "/ui/")}");
                return 0;
            }

            await Console.Out.WriteLineAsync(url.AbsoluteUri);
            return 0;
        });
        return command;
    }

    /// <summary>The desktop's browser through xdg-open, when there is a desktop; false otherwise.</summary>
    private static bool TryOpen(Uri url)
    {
        if (Environment.GetEnvironmentVariable("DISPLAY") is not { Length: > 0 } && Environment.GetEnvironmentVariable("WAYLAND_DISPLAY") is not { Length: > 0 })
        {
            return false;
        }

        try
        {
            using var opener = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("xdg-open") { ArgumentList = { url.AbsoluteUri }, UseShellExecute = false });
            return opener is not null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
