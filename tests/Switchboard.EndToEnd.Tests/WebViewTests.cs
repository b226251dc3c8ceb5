using System.Net;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.Playwright;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// The web view (<c>/ui/</c> on the API server's port) in the system's Chromium, driven by Playwright, against one
/// <c>switchboard up</c> running the walkthrough: its objects appear, a <c>curl backend</c> from the client pod shows up
/// in the flow on the endpoint that answered, scaling 3 → 5 changes the page without a reload, the rules and the pod
/// views show what the proxy programmed and what the pod is; a user bound to view in one namespace sees that namespace
/// only, and the trace once it may get nodes/proxy; and without a login nothing but the login is served.
/// </summary>
public sealed class WebViewTests(WebViewTests.Cluster cluster) : IClassFixture<WebViewTests.Cluster>
{
    /// <summary>Generous: the page is meant to show a change within a second or two; a loaded CI machine is slower.</summary>
    private static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Without_a_session_nothing_but_the_login_is_served()
    {
        using var http = Cluster.Http(cookies: false);
        Uri api = cluster.ApiUrl;

        // The page: the login form only, with nothing of the cluster in it.
        using (HttpResponseMessage page = await http.GetAsync(new Uri(api, "/ui/")))
        {
            string html = await page.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<form method=\"post\" action=\"/ui/login\"", html, StringComparison.Ordinal);
            Assert.DoesNotContain("critical-app", html, StringComparison.Ordinal);
            Assert.DoesNotContain("backend", html, StringComparison.Ordinal);
            Assert.DoesNotContain("app.js", html, StringComparison.Ordinal);
        }

        // Every data URL and the application's own files: 401 with a Status.
        foreach (string path in new[]
        {
            "/ui/api/events", "/ui/api/rules?namespace=critical-app&name=backend", "/ui/api/pod?namespace=critical-app&name=client",
            "/ui/api/services", "/ui/assets/app.js", "/ui/assets/app.css", "/ui/assets/index.html",
        })
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri(api, path));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode}");
            JsonNode status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(("Status", "Unauthorized", 401), ((string?)status["kind"], (string?)status["reason"], (int?)status["code"]));
        }

        // A wrong token: the form again, no session. The right one from another site: refused.
        using (HttpResponseMessage wrong = await http.SendAsync(Login("not-the-token", $"https://{api.Authority}")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.False(wrong.Headers.Contains("Set-Cookie"));
            Assert.Contains("not accepted", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (HttpResponseMessage crossSite = await http.SendAsync(Login(cluster.Token, "https://attacker.example")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);
            Assert.False(crossSite.Headers.Contains("Set-Cookie"));
        }

        // A one-time link works once.
        Uri link = await cluster.LoginUrlAsync();
        using (HttpResponseMessage first = await http.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
            string cookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        }

        using (HttpResponseMessage again = await http.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
            Assert.False(again.Headers.Contains("Set-Cookie"));
        }

        // In the browser: the form, then the overview once the kubeconfig's token is given.
        await using IBrowserContext context = await cluster.NewContextAsync();
        IPage browser = await context.NewPageAsync();
        await browser.GotoAsync(new Uri(api, "/ui/").AbsoluteUri);
        await Assertions.Expect(browser.Locator("#token")).ToBeVisibleAsync();
        Assert.Equal(0, await browser.Locator("#list").CountAsync());
        await browser.FillAsync("#token", cluster.Token);
        await browser.ClickAsync("button[type=submit]");
        await Assertions.Expect(browser.Locator("#list")).ToBeVisibleAsync(new() { Timeout = (float)PageTimeout.TotalMilliseconds });
        var session = Assert.Single(await context.CookiesAsync(), c => c.Name == "sb-ui-session");
        Assert.True(session.HttpOnly && session.Secure && session.SameSite == SameSiteAttribute.Strict, "the session cookie is HttpOnly, Secure and SameSite=Strict");
    }

    [Fact]
    public async Task The_walkthrough_appears_a_curl_shows_on_its_endpoint_and_scaling_to_5_updates_the_page_without_a_reload()
    {
        await using IBrowserContext context = await cluster.NewContextAsync();
        IPage page = await cluster.LoggedInPageAsync(context);
        var timeout = new LocatorAssertionsToHaveAttributeOptions { Timeout = (float)PageTimeout.TotalMilliseconds };

        // The overview: the walkthrough's namespace, the backend Service with its ClusterIP, DNS name and 3 ready pods.
        await page.FillAsync("#search", "backend");
        ILocator backend = page.Locator("[data-service='critical-app/backend']");
        await Assertions.Expect(backend).ToHaveAttributeAsync("data-endpoints", "3", timeout);
        await Assertions.Expect(page.Locator("[data-namespace='critical-app']")).ToBeVisibleAsync();
        string clusterIp = await cluster.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        Assert.Contains(clusterIp, await backend.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("backend.critical-app.svc.cluster.local", await backend.InnerTextAsync(), StringComparison.Ordinal);
        await Assertions.Expect(backend.Locator(".pod[data-state='ready']")).ToHaveCountAsync(3);
        await page.EvaluateAsync("() => { window.sameDocument = true; }");

        // The flow: curl backend from the client; the page answering names the pod it came from, and the flow counts a
        // connection of the client on that pod's endpoint.
        await backend.ClickAsync();
        await Assertions.Expect(page.Locator("#flow-title")).ToContainTextAsync("critical-app/backend");
        string answered = await cluster.CurlBackendAsync();
        string podIp = await cluster.Kubectl.OutputAsync("get", "pod", answered, "-n", "critical-app", "-o", "jsonpath={.status.podIP}");
        ILocator row = page.Locator($"#flow-endpoints tr[data-pod='{answered}']");
        await Eventually.WaitAsync(
            async () => await row.CountAsync() == 1 && int.Parse(await row.GetAttributeAsync("data-count") ?? "0", System.Globalization.CultureInfo.InvariantCulture) >= 1,
            $"the flow to count a connection on {answered}",
            PageTimeout);
        Assert.Equal($"{podIp}:80", await row.GetAttributeAsync("data-endpoint"));
        await Assertions.Expect(page.Locator($"#flow-connections li[data-client='critical-app/client'][data-endpoint='{podIp}:80']").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#flow-dns li[data-client='critical-app/client']").First).ToContainTextAsync("backend.critical-app.svc.cluster.local");

        // The service map: an edge from the client to the Service.
        await page.ClickAsync("#tabs button[data-tab='map']");
        await Assertions.Expect(page.Locator("[data-edge='critical-app/client->critical-app/backend']")).ToHaveCountAsync(1);

        // Scaling 3 → 5: the same document shows 5 ready pods behind the Service.
        await page.ClickAsync("#tabs button[data-tab='overview']");
        await cluster.Kubectl.OutputAsync("scale", "deployment", "backend", "-n", "critical-app", "--replicas=5");
        try
        {
            await Assertions.Expect(backend).ToHaveAttributeAsync("data-endpoints", "5", timeout);
            await Assertions.Expect(backend.Locator(".pod[data-state='ready']")).ToHaveCountAsync(5, new() { Timeout = (float)PageTimeout.TotalMilliseconds });
            Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was not reloaded");
        }
        finally
        {
            await cluster.Kubectl.OutputAsync("scale", "deployment", "backend", "-n", "critical-app", "--replicas=3");
        }
    }

    [Fact]
    public async Task Rules_show_each_endpoint_the_proxy_programmed_and_the_pod_view_shows_the_pod()
    {
        await using IBrowserContext context = await cluster.NewContextAsync();
        IPage page = await cluster.LoggedInPageAsync(context);
        await page.FillAsync("#search", "backend");
        ILocator backend = page.Locator("[data-service='critical-app/backend']");
        await Assertions.Expect(backend).ToHaveAttributeAsync("data-endpoints", "3", new() { Timeout = (float)PageTimeout.TotalMilliseconds });
        await backend.ClickAsync();
        await page.ClickAsync("#tabs button[data-tab='rules']");

        // iptables mode: KUBE-SVC's random jumps and each KUBE-SEP's DNAT, each naming the endpoint it leads to.
        ILocator rules = page.Locator("table.rules[data-mode='iptables']");
        await Assertions.Expect(rules).ToHaveCountAsync(1, new() { Timeout = (float)PageTimeout.TotalMilliseconds });
        string[] ips = (await cluster.Kubectl.OutputAsync("get", "pods", "-l", "role=backend", "-n", "critical-app", "-o", "jsonpath={.items[*].status.podIP}")).Split(' ');
        foreach (string ip in ips)
        {
            await Assertions.Expect(rules.Locator($"tr[data-endpoint='{ip}:80']").Filter(new() { HasText = "--to-destination " + ip + ":80" })).ToHaveCountAsync(1);
        }

        await Assertions.Expect(rules.Locator("tr").Filter(new() { HasText = "statistic --mode random" })).ToHaveCountAsync(ips.Length - 1);

        // The client pod: phase, IP, node, its container, and its log.
        await page.FillAsync("#search", "client");
        await page.ClickAsync("#tabs button[data-tab='overview']");
        await page.FillAsync("#search", "");
        const string firstPod = "document.querySelector(\"[data-service='critical-app/backend'] .pod\")";
        await page.WaitForFunctionAsync($"() => {firstPod} !== null");
        await page.EvaluateAsync($"() => {firstPod}.click()");
        ILocator detail = page.Locator("[data-pod-detail^='critical-app/backend-']");
        await Assertions.Expect(detail.Locator("[data-field='phase']")).ToHaveTextAsync("Running", new() { Timeout = (float)PageTimeout.TotalMilliseconds });
        string podName = (await detail.GetAttributeAsync("data-pod-detail"))!.Split('/')[1];
        string podIp = await cluster.Kubectl.OutputAsync("get", "pod", podName, "-n", "critical-app", "-o", "jsonpath={.status.podIP}");
        await Assertions.Expect(detail.Locator("[data-field='ip']")).ToHaveTextAsync(podIp);
        await Assertions.Expect(page.Locator("#pod-body h3").First).ToContainTextAsync("running");
        await Assertions.Expect(page.Locator("#nodes tr[data-node]")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_user_bound_to_view_in_one_namespace_sees_only_that_namespace_and_the_trace_once_it_may_get_nodes_proxy()
    {
        // A service account of the walkthrough's namespace, bound to view there: its token opens a session like any other.
        await cluster.Kubectl.OutputAsync("create", "serviceaccount", "ui-viewer", "-n", "critical-app");
        await cluster.Kubectl.OutputAsync("create", "rolebinding", "ui-viewer", "--clusterrole=view", "--serviceaccount=critical-app:ui-viewer", "-n", "critical-app");
        string token = (await cluster.Kubectl.OutputAsync("create", "token", "ui-viewer", "-n", "critical-app")).Trim();
        var timeout = new LocatorAssertionsToHaveAttributeOptions { Timeout = (float)PageTimeout.TotalMilliseconds };
        try
        {
            await using (IBrowserContext context = await cluster.NewContextAsync())
            {
                IPage page = await cluster.TokenLoginPageAsync(context, token);

                // Its namespace's Service, endpoints and pods; no namespace list, no other namespace's Services, no nodes.
                ILocator backend = page.Locator("[data-service='critical-app/backend']");
                await Assertions.Expect(backend).ToHaveAttributeAsync("data-endpoints", "3", timeout);
                await Assertions.Expect(page.Locator("#counts")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^0 namespaces, 1 services, [1-9][0-9]* pods$"));
                Assert.NotEmpty(await cluster.Kubectl.OutputAsync("get", "service", "kubernetes", "-n", "default", "-o", "name"));
                Assert.Equal(0, await page.Locator("[data-service='default/kubernetes']").CountAsync());
                await page.ClickAsync("#tabs button[data-tab='pod']");
                Assert.Equal(0, await page.Locator("#nodes tr[data-node]").CountAsync());

                // The trace needs get on nodes/proxy, which view does not grant: the flow says so, the map is empty.
                await page.ClickAsync("#tabs button[data-tab='overview']");
                await backend.ClickAsync();
                await Assertions.Expect(page.Locator("#flow-note")).ToContainTextAsync("nodes/proxy", new() { Timeout = (float)PageTimeout.TotalMilliseconds });
            }

            // Granted get on nodes/proxy, a new session shows the flow of its namespace's Service.
            await cluster.Kubectl.OutputAsync("create", "clusterrole", "ui-viewer-trace", "--verb=get", "--resource=nodes/proxy");
            await cluster.Kubectl.OutputAsync("create", "clusterrolebinding", "ui-viewer-trace", "--clusterrole=ui-viewer-trace", "--serviceaccount=critical-app:ui-viewer");
            await Eventually.WaitAsync(
                async () => (await cluster.Kubectl.RunAsync("auth", "can-i", "get", "nodes", "--subresource=proxy", "--as=system:serviceaccount:critical-app:ui-viewer")).Stdout.Trim() == "yes",
                "the binding to take effect");
            await using (IBrowserContext context = await cluster.NewContextAsync())
            {
                IPage page = await cluster.TokenLoginPageAsync(context, token);
                ILocator backend = page.Locator("[data-service='critical-app/backend']");
                await Assertions.Expect(backend).ToHaveAttributeAsync("data-endpoints", "3", timeout);
                await backend.ClickAsync();
                await Assertions.Expect(page.Locator("#flow-title")).ToContainTextAsync("critical-app/backend");
                string answered = await cluster.CurlBackendAsync();
                await Assertions.Expect(page.Locator($"#flow-connections li[data-client='critical-app/client']").First).ToBeVisibleAsync(new() { Timeout = (float)PageTimeout.TotalMilliseconds });
                await Assertions.Expect(page.Locator($"#flow-endpoints tr[data-pod='{answered}']")).ToHaveCountAsync(1);
                await Assertions.Expect(page.Locator("#flow-note")).ToHaveTextAsync("");
            }
        }
        finally
        {
            await cluster.Kubectl.RunAsync("delete", "clusterrolebinding", "ui-viewer-trace", "--ignore-not-found");
            await cluster.Kubectl.RunAsync("delete", "clusterrole", "ui-viewer-trace", "--ignore-not-found");
            await cluster.Kubectl.RunAsync("delete", "rolebinding", "ui-viewer", "-n", "critical-app", "--ignore-not-found");
            await cluster.Kubectl.RunAsync("delete", "serviceaccount", "ui-viewer", "-n", "critical-app", "--ignore-not-found");
        }
    }

    private HttpRequestMessage Login(string token, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.ApiUrl, "/ui/login"))
        {
            Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("token", token)]),
        };
        request.Headers.Add("Origin", origin);
        return request;
    }

    /// <summary>One <c>switchboard up</c> with the walkthrough's namespace, backend and client, and one headless Chromium.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        private SwitchboardUp? _up;
        private IPlaywright? _playwright;
        private IBrowser? _browser;

        public Kubectl Kubectl => _up!.Kubectl;

        public Uri ApiUrl { get; private set; } = null!;

        /// <summary>The kubeconfig's token.</summary>
        public string Token { get; private set; } = "";

        public async Task InitializeAsync()
        {
            _up = await SwitchboardUp.StartAsync();
            var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(_up.Kubectl.KubeconfigPath);
            ApiUrl = new Uri(config.Host);
            Token = config.AccessToken;
            await Kubectl.OutputAsync("create", "namespace", "critical-app");
            await Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
            await Kubectl.OutputAsync("run", "client", "--image=tutum/curl", "--restart=Never", "-n", "critical-app", "--", "sleep", "3600");
            await Kubectl.OutputAsync("wait", "--for=condition=Ready", "pod", "client", "-n", "critical-app", "--timeout=120s");
            await Kubectl.OutputAsync("wait", "--for=condition=Ready", "pod", "-l", "role=backend", "-n", "critical-app", "--timeout=120s");
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
        }

        public async Task DisposeAsync()
        {
            if (_browser is not null)
            {
                await _browser.DisposeAsync();
            }

            _playwright?.Dispose();
            if (_up is not null)
            {
                await _up.DisposeAsync();
            }
        }

        /// <summary>A browser context of its own (cookies included), trusting the cluster's self-signed CA as a user who accepted it.</summary>
        public Task<IBrowserContext> NewContextAsync() => _browser!.NewContextAsync(new() { IgnoreHTTPSErrors = true });

        /// <summary>A page logged in with <c>switchboard ui --print-url</c>'s one-time link, showing the overview.</summary>
        public async Task<IPage> LoggedInPageAsync(IBrowserContext context)
        {
            IPage page = await context.NewPageAsync();
            await page.GotoAsync((await LoginUrlAsync()).AbsoluteUri);
            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("live", new() { Timeout = (float)PageTimeout.TotalMilliseconds });
            return page;
        }

        /// <summary>A page logged in through the form with <paramref name="token"/>, showing the overview.</summary>
        public async Task<IPage> TokenLoginPageAsync(IBrowserContext context, string token)
        {
            IPage page = await context.NewPageAsync();
            await page.GotoAsync(new Uri(ApiUrl, "/ui/").AbsoluteUri);
            await page.FillAsync("#token", token);
            await page.ClickAsync("button[type=submit]");
            await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("live", new() { Timeout = (float)PageTimeout.TotalMilliseconds });
            return page;
        }

        public async Task<Uri> LoginUrlAsync()
        {
            var result = await SwitchboardUp.RunAsync("ui", "--kubeconfig", Kubectl.KubeconfigPath, "--print-url");
            return new Uri(result.EnsureSuccess("switchboard ui --print-url" + _up!.ExitNote).Stdout.Trim());
        }

        /// <summary>curl backend from the client pod, as the walkthrough does; the name of the pod whose nginx answered.</summary>
        public async Task<string> CurlBackendAsync()
        {
            string page = "";
            await Eventually.WaitAsync(
                async () =>
                {
                    var result = await SwitchboardUp.RunAsync("exec", "--kubeconfig", Kubectl.KubeconfigPath, "-n", "critical-app", "client", "--", "curl", "-s", "-m", "5", "backend");
                    page = result.Stdout;
                    return result.ExitCode == 0;
                },
                "curl backend from the client pod");
            return System.Text.RegularExpressions.Regex.Match(page, @"backend-[a-z0-9]+-[a-z0-9]+").Value is { Length: > 0 } pod ? pod : throw new InvalidOperationException("no pod named in:\n" + page);
        }

        /// <summary>HTTPS to the API server without following redirects (the login's 303 is checked), the cluster's CA accepted.</summary>
        public static HttpClient Http(bool cookies) => new(new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = cookies,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        });
    }
}
