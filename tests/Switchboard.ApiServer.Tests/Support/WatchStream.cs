using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using k8s;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>A watch read as raw lines off the wire, so every event (ERROR included) and the end of the stream are seen as sent.</summary>
public sealed class WatchStream : IDisposable
{
    private readonly HttpClientHandler _handler;
    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _lines;

    private WatchStream(HttpClientHandler handler, HttpClient http, HttpResponseMessage response, StreamReader lines)
    {
        _handler = handler;
        _http = http;
        _response = response;
        _lines = lines;
    }

    public static async Task<WatchStream> OpenAsync(ApiServerService host, string pathAndQuery)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(host.KubeconfigPath);
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        var http = new HttpClient(handler) { BaseAddress = host.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);
        var response = await http.GetAsync(new Uri(pathAndQuery, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new WatchStream(handler, http, response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next event's type and object, or null when the server ended the stream.</summary>
    public async Task<(string Type, JsonNode Object)?> NextAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string? line = await _lines.ReadLineAsync(deadline.Token);
        if (line is null)
        {
            return null;
        }

        var node = JsonNode.Parse(line)!;
        return (node["type"]!.GetValue<string>(), node["object"]!);
    }

    public void Dispose()
    {
        _lines.Dispose();
        _response.Dispose();
        _http.Dispose();
        _handler.Dispose();
    }
}
