using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// One authenticated request must not take down <c>switchboard up</c>, where the API, the controllers and DNS share one
/// process: each hostile body is refused with its Status, and the same process answers the next request.
/// </summary>
public sealed class HostileRequestTests(HostileRequestTests.Cluster cluster) : IClassFixture<HostileRequestTests.Cluster>
{
    [Fact]
    public async Task A_yaml_body_nested_100000_deep_is_400_not_a_stack_overflow()
    {
        string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  x: " + new string('[', 100_000) + new string(']', 100_000) + "\n";

        var (code, status) = await cluster.PostAsync("/api/v1/namespaces/default/configmaps", yaml, "application/yaml");

        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest"), (code, status?["reason"]?.GetValue<string>()));
        Assert.Contains("exceeded max depth of 64", status!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await cluster.AssertServingAsync();
    }

    [Fact]
    public async Task A_yaml_alias_bomb_is_400_before_it_is_expanded()
    {
        // Nine levels of ten aliases each: 10^9 strings once expanded, from under a kilobyte of text.
        var yaml = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: laughs\n  annotations:\n    a0: &a0 [\"lol\"]\n");
        for (int level = 1; level <= 9; level++)
        {
            yaml.Append("    a").Append(level).Append(": &a").Append(level).Append(" [")
                .AppendJoin(',', Enumerable.Repeat("*a" + (level - 1), 10)).Append("]\n");
        }

        var (code, status) = await cluster.PostAsync("/api/v1/namespaces/default/configmaps", yaml.ToString(), "application/yaml");

        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest"), (code, status?["reason"]?.GetValue<string>()));
        Assert.Contains("document contains excessive aliasing", status!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await cluster.AssertServingAsync();
    }

    [Fact]
    public async Task A_100_MB_body_is_413()
    {
        var body = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = "huge" },
            ["data"] = new JsonObject { ["blob"] = new string('x', 100 * 1024 * 1024) },
        }.ToJsonString();

        var (code, status) = await cluster.PostAsync("/api/v1/namespaces/default/configmaps", body, "application/json");

        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge"), (code, status?["reason"]?.GetValue<string>()));
        await cluster.AssertServingAsync();
    }

    /// <summary>One <c>switchboard up</c> for the class, and an HTTP client holding its admin token.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        private SwitchboardUp? _up;
        private HttpClientHandler? _handler;
        private HttpClient? _http;

        private SwitchboardUp Up => _up ?? throw new InvalidOperationException("started in InitializeAsync");

        private HttpClient Http => _http ?? throw new InvalidOperationException("started in InitializeAsync");

        public async Task InitializeAsync()
        {
            _up = await SwitchboardUp.StartAsync();
            var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(_up.Kubectl.KubeconfigPath);
            _handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
            // HTTP/2, as kubectl speaks it: a server refusing a body part-way answers on the stream while an HTTP/1.1
            // client, still sending, sees only the connection's reset.
            _http = new HttpClient(_handler)
            {
                BaseAddress = new Uri(config.Host),
                Timeout = TimeSpan.FromMinutes(2),
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);
        }

        public async Task DisposeAsync()
        {
            _http?.Dispose();
            _handler?.Dispose();
            if (_up is not null)
            {
                await _up.DisposeAsync();
            }
        }

        /// <summary>POSTs <paramref name="body"/>; the status code and the Status the server answered with (null if none).</summary>
        public async Task<(HttpStatusCode Code, JsonNode? Status)> PostAsync(string path, string body, string mediaType)
        {
            using var content = new StringContent(body, Encoding.UTF8, mediaType);
            using var response = await Http.PostAsync(new Uri(path, UriKind.Relative), content);
            string text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
        }

        /// <summary>The same process is still up and serves the next request: a write and a read through kubectl.</summary>
        public async Task AssertServingAsync()
        {
            string name = "alive-" + Guid.NewGuid().ToString("N")[..8];
            await Up.Kubectl.OutputAsync("create", "configmap", name, "--from-literal=k=v");
            Assert.Equal("v", await Up.Kubectl.OutputAsync("get", "configmap", name, "-o", "jsonpath={.data.k}"));
            Assert.DoesNotContain("Stack overflow", Up.Log, StringComparison.Ordinal);
        }
    }
}
