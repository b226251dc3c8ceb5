using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Http;

/// <summary>
/// Requests built to exhaust the server (memory, connections, its stack) are refused with a Status, or cut off, and
/// the server goes on serving. The process-killing bodies are also sent to <c>switchboard up</c> (EndToEnd).
/// </summary>
public sealed class HostileRequestTests(HostileRequestTests.LimitedApiServer server) : IClassFixture<HostileRequestTests.LimitedApiServer>
{
    private const int WatchLimit = 100;
    private const long WatchBudget = 1024 * 1024;

    [Fact]
    public async Task Ten_thousand_watches_from_one_client_are_held_to_the_limit_and_the_rest_get_429()
    {
        using var http = Client(HttpVersion.Version20);
        var opened = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(_ =>
            http.GetAsync(new Uri("/api/v1/namespaces/default/configmaps?watch=true", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead)));
        try
        {
            var refused = opened.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.Equal((WatchLimit, 10_000 - WatchLimit), (opened.Count(r => r.StatusCode == HttpStatusCode.OK), refused.Count));
            var status = JsonNode.Parse(await refused[0].Content.ReadAsStringAsync())!;
            Assert.Equal(("TooManyRequests", 429, "1"), (status["reason"]!.GetValue<string>(), status["code"]!.GetValue<int>(), refused[0].Headers.RetryAfter?.ToString()));

            // Short requests have their own limit: the watches do not starve them.
            using var list = await http.GetAsync(new Uri("/api/v1/namespaces/default/configmaps", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        }
        finally
        {
            foreach (var response in opened)
            {
                response.Dispose();
            }
        }

        // Closed watches give their places back.
        await Eventually.WaitAsync(
            async () =>
            {
                using var again = await http.GetAsync(new Uri("/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
                return again.StatusCode == HttpStatusCode.OK;
            },
            "a watch to be admitted once the others closed");
    }

    [Fact]
    public async Task A_watch_that_never_reads_is_dropped_once_its_backlog_passes_the_byte_budget()
    {
        using var client = server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "stalled" } });
        using var http = Client(HttpVersion.Version11);
        using var stalled = await http.GetAsync(new Uri("/api/v1/namespaces/stalled/configmaps?watch=true", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        using var reading = await WatchStream.OpenAsync(server.Host, "/api/v1/namespaces/stalled/configmaps?watch=true");
        Assert.Equal(HttpStatusCode.OK, stalled.StatusCode);

        // 40 MB of events, far beyond the budget and what the sockets on the way hold; well under the store's event count.
        const int Count = 400;
        var read = Task.Run(async () =>
        {
            int seen = 0;
            while (seen < Count && await reading.NextAsync() is not null)
            {
                seen++;
            }

            return seen;
        });
        for (int i = 0; i < Count; i++)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(
                new V1ConfigMap { Metadata = new V1ObjectMeta { Name = $"cm-{i}" }, Data = new Dictionary<string, string> { ["blob"] = new('x', 100 * 1024) } }, "stalled");
        }

        // The watch that reads got every event; the stalled one, read now, ends early.
        Assert.Equal(Count, await read);
        int delivered = 0;
        try
        {
            using var lines = new StreamReader(await stalled.Content.ReadAsStreamAsync());
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await lines.ReadLineAsync(deadline.Token) is not null)
            {
                delivered++;
            }
        }
        catch (IOException)
        {
            // The server reset the connection it could not write to.
        }

        Assert.InRange(delivered, 0, Count - 1);
        Assert.Equal(Count, (await client.CoreV1.ListNamespacedConfigMapAsync("stalled")).Items.Count);
    }

    [Fact]
    public async Task A_label_selector_of_30_KB_is_400()
    {
        using var http = Client(HttpVersion.Version11);
        string selector = Uri.EscapeDataString("app=" + new string('x', 30 * 1024));

        using var response = await http.GetAsync(new Uri($"/api/v1/namespaces/default/configmaps?labelSelector={selector}", UriKind.Relative));
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest"), (response.StatusCode, status["reason"]!.GetValue<string>()));
        Assert.Contains("values[0][app]: Invalid value", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("must be no more than 63 characters", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_json_patch_copying_spec_into_itself_is_refused_once_copies_pass_3_MiB()
    {
        using var client = server.NewClient();
        await client.CoreV1.CreateNamespacedServiceAsync(Service("doubling"), "default");
        // Each copy doubles the spec (it holds two copies of the one before): 2^40 times its size unless something stops it.
        var patch = new JsonArray([.. Enumerable.Range(0, 40).Select(i => (JsonNode)new JsonObject { ["op"] = "copy", ["from"] = "/spec", ["path"] = i % 2 == 0 ? "/spec/a" : "/spec/b" })]);

        var (code, status) = await PatchAsync("/api/v1/namespaces/default/services/doubling", patch.ToJsonString(), "application/json-patch+json");

        Assert.Equal((HttpStatusCode.UnprocessableEntity, "Invalid"), (code, status["reason"]!.GetValue<string>()));
        Assert.Contains("the accumulated size increase of copy is", status["details"]!["causes"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("doubling", (await client.CoreV1.ReadNamespacedServiceAsync("doubling", "default")).Metadata.Name);
    }

    [Fact]
    public async Task A_json_patch_of_more_than_10000_operations_is_413()
    {
        using var client = server.NewClient();
        await client.CoreV1.CreateNamespacedServiceAsync(Service("many-ops"), "default");
        var patch = new JsonArray([.. Enumerable.Range(0, 10_001).Select(_ => (JsonNode)new JsonObject { ["op"] = "test", ["path"] = "/metadata/name", ["value"] = "many-ops" })]);

        var (code, status) = await PatchAsync("/api/v1/namespaces/default/services/many-ops", patch.ToJsonString(), "application/json-patch+json");

        Assert.Equal(
            (HttpStatusCode.RequestEntityTooLarge, "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"),
            (code, status["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_json_patch_nesting_past_64_levels_is_refused()
    {
        using var client = server.NewClient();
        await client.CoreV1.CreateNamespacedServiceAsync(Service("deep"), "default");
        // Each operation's body is shallow; together they would nest 92 levels deep.
        string path = "/spec/x";
        var operations = new JsonArray();
        for (int i = 0; i < 3; i++)
        {
            operations.Add(new JsonObject { ["op"] = "add", ["path"] = path, ["value"] = Nested(30) });
            path += string.Concat(Enumerable.Repeat("/a", 30));
        }

        var (code, status) = await PatchAsync("/api/v1/namespaces/default/services/deep", operations.ToJsonString(), "application/json-patch+json");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Contains("would nest deeper than 64 levels", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_patch_growing_an_object_past_what_the_store_holds_is_413_not_a_store_failure()
    {
        using var client = server.NewClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "growing" }, Data = new Dictionary<string, string> { ["a"] = new('x', 1024 * 1024) } }, "default");
        string patch = new JsonObject { ["data"] = new JsonObject { ["b"] = new string('y', 1024 * 1024) } }.ToJsonString();

        var (code, status) = await PatchAsync("/api/v1/namespaces/default/configmaps/growing", patch, "application/merge-patch+json");

        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge"), (code, status["reason"]!.GetValue<string>()));
        Assert.Contains("over the limit of 1572864", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static JsonObject Nested(int depth)
    {
        var node = new JsonObject();
        for (int i = 1; i < depth; i++)
        {
            node = new JsonObject { ["a"] = node };
        }

        return node;
    }

    private static V1Service Service(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80, Protocol = "TCP" }], Selector = new Dictionary<string, string> { ["app"] = name } },
    };

    private async Task<(HttpStatusCode Code, JsonNode Status)> PatchAsync(string path, string body, string mediaType)
    {
        using var http = Client(HttpVersion.Version11);
        using var content = new StringContent(body, Encoding.UTF8, mediaType);
        using var response = await http.PatchAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private HttpClient Client(Version version)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Host.KubeconfigPath);
        var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            EnableMultipleHttp2Connections = true,
        };
        var http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = server.Host.Url,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromMinutes(2),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);
        return http;
    }

    /// <summary>The API server on SQLite with a low limit on long-running requests and a small watch budget.</summary>
    public sealed class LimitedApiServer : SqliteApiServer
    {
        protected override ApiServerOptions Configure(ApiServerOptions options) =>
            base.Configure(options) with { MaxLongRunningRequests = WatchLimit, WatchBufferBytes = WatchBudget };
    }
}
