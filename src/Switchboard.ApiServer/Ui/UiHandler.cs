using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Errors;
using Switchboard.Kube.Client;
using Switchboard.Kube.Serialization;
using Switchboard.Kube.Trace;

namespace Switchboard.ApiServer.Ui;

/// <summary>
/// The web view under <c>/ui/</c> on the API server's own port: one certificate and one authentication path for the
/// page and the API. Without a session only the login form (and its stylesheet) is served, and every data URL answers
/// 401; a session comes from the form (the kubeconfig's token) or from a one-time URL that <c>switchboard ui</c> mints
/// (<c>POST /ui/login-links</c>, authenticated as any API request). Any token the API server authenticates opens a
/// session (the admin's, a token-file user's, a service account's), and the page shows what that identity may list
/// and watch (<see cref="UiAccess"/>). The session cookie is HttpOnly, Secure and SameSite=Strict; the requests that
/// change state (login, logout, the flow a page shows) must come from the page's own origin. Each request of the page is
/// authenticated again with the session's token, and what it reads for one page (rules, logs, pods) it reads through
/// the API as that identity.
/// </summary>
internal sealed partial class UiHandler : IAsyncDisposable
{
    public const string CookieName = "sb-ui-session";

    private const string Csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>What is served without a session: the login form and its stylesheet, nothing of the cluster.</summary>
    private static readonly HashSet<string> PublicAssets = new(["login.css"], StringComparer.Ordinal);

    private readonly UiSessions _sessions;
    private readonly UiHub _hub;
    private readonly RequestAuthenticator _authenticator;
    private readonly RequestAuthorizer _authorizer;
    private readonly Func<KubernetesClientConfiguration> _config;
    private readonly ILogger _logger;
    private HttpClient? _self;

    /// <summary>A handler whose hub follows the objects through <c>clients</c>' informers (null: its own).</summary>
    public UiHandler(
        KubeClientSource? clients, Func<KubernetesClientConfiguration> config, RequestAuthenticator authenticator, RequestAuthorizer authorizer, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _config = config;
        _authenticator = authenticator;
        _authorizer = authorizer;
        _sessions = new UiSessions(time);
        _hub = new UiHub(clients, config, "cluster.local", loggerFactory, time);
        _logger = loggerFactory.CreateLogger<UiHandler>();
    }

    /// <summary>Serves <paramref name="rest"/> (the path after <c>/ui</c>).</summary>
    public async Task InvokeAsync(HttpContext http, string[] rest)
    {
        HttpResponse response = http.Response;
        response.Headers.ContentSecurityPolicy = Csp;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.CacheControl = "no-store";
        string method = http.Request.Method;
        switch (rest)
        {
            case [] when http.Request.Path.Value?.EndsWith('/') != true:
                response.Redirect("/ui/");
                return;
            case [] when HttpMethods.IsGet(method) || HttpMethods.IsHead(method):
                await AssetAsync(http, await SessionAsync(http) is null ? "login.html" : "index.html");
                return;
            case ["login"] when HttpMethods.IsGet(method):
                await RedeemAsync(http);
                return;
            case ["login"] when HttpMethods.IsPost(method):
                await LoginAsync(http);
                return;
            case ["logout"] when HttpMethods.IsPost(method):
                RequireSameOrigin(http);
                _sessions.Close(http.Request.Cookies[CookieName]);
                response.Cookies.Delete(CookieName, CookieOptions());
                response.StatusCode = StatusCodes.Status303SeeOther;
                response.Headers.Location = "/ui/";
                return;
            case ["login-links"] when HttpMethods.IsPost(method):
                await MintAsync(http);
                return;
            case ["assets", var name] when PublicAssets.Contains(name) && HttpMethods.IsGet(method):
                await AssetAsync(http, name);
                return;
            case ["assets", var name] when HttpMethods.IsGet(method):
                await RequireSessionAsync(http);
                await AssetAsync(http, name);
                return;
            case ["api", "events"] when HttpMethods.IsGet(method):
                await EventsAsync(http, await RequireSessionAsync(http));
                return;
            case ["api", "flow"] when HttpMethods.IsPost(method):
                await FlowAsync(http, await RequireSessionAsync(http));
                return;
            case ["api", "rules"] when HttpMethods.IsGet(method):
                await RulesAsync(http, (await RequireSessionAsync(http)).Token);
                return;
            case ["api", "pod"] when HttpMethods.IsGet(method):
                await PodAsync(http, (await RequireSessionAsync(http)).Token);
                return;
            case ["api", ..]:
                await RequireSessionAsync(http);
                throw ApiException.PathNotFound();
            default:
                throw ApiException.PathNotFound();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync();
        _self?.Dispose();
    }

    /// <summary>The request's live session whose token the API server still accepts, and who it is; null without one.</summary>
    private async Task<Session?> SessionAsync(HttpContext http)
    {
        string? id = http.Request.Cookies[CookieName];
        if (_sessions.Token(id) is not { } token)
        {
            return null;
        }

        if (await _authenticator.AuthenticateTokenAsync(token, http.RequestAborted) is not { } user)
        {
            _sessions.Close(id);
            return null;
        }

        return new Session(id!, token, user);
    }

    private async Task<Session> RequireSessionAsync(HttpContext http) => await SessionAsync(http) ?? throw ApiException.Unauthorized();

    /// <summary>The form's token: authenticated as any API request's; a wrong one shows the form again with the reason.</summary>
    private async Task LoginAsync(HttpContext http)
    {
        RequireSameOrigin(http);
        if (!http.Request.HasFormContentType)
        {
            throw ApiException.UnsupportedMediaType(http.Request.ContentType ?? "");
        }

        IFormCollection form = await http.Request.ReadFormAsync(http.RequestAborted);
        string token = form["token"].ToString().Trim();
        if (await _authenticator.AuthenticateTokenAsync(token, http.RequestAborted) is null)
        {
            LogLoginRefused(_logger, http.Connection.RemoteIpAddress);
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await AssetAsync(http, "login.html", "<p class=\"error\" role=\"alert\">That token was not accepted.</p>");
            return;
        }

        StartSession(http, token);
    }

    /// <summary><c>GET /ui/login?code=…</c>: a one-time URL from <c>switchboard ui</c>; without a code, the form.</summary>
    private async Task RedeemAsync(HttpContext http)
    {
        if (http.Request.Query["code"].ToString() is not { Length: > 0 } code)
        {
            await AssetAsync(http, "login.html");
            return;
        }

        if (_sessions.Redeem(code) is not { } token)
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await AssetAsync(http, "login.html", "<p class=\"error\" role=\"alert\">That login link was used already or has expired: run switchboard ui again, or give the token.</p>");
            return;
        }

        _ = await _authenticator.AuthenticateTokenAsync(token, http.RequestAborted) ?? throw ApiException.Unauthorized();
        StartSession(http, token);
    }

    /// <summary><c>POST /ui/login-links</c>: a one-time login path for the caller's own token.</summary>
    private async Task MintAsync(HttpContext http)
    {
        await _authenticator.AuthenticateAsync(http);
        string authorization = http.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.BadRequest("a login link is minted for a bearer token: the kubeconfig's user has none");
        }

        string code = _sessions.MintCode(authorization["Bearer ".Length..].Trim());
        await ApiJson.WriteAsync(http, StatusCodes.Status201Created, new JsonObject
        {
            ["path"] = "/ui/login?code=" + code,
            ["expiresInSeconds"] = (int)UiSessions.CodeLifetime.TotalSeconds,
        });
    }

    private void StartSession(HttpContext http, string token)
    {
        http.Response.Cookies.Append(CookieName, _sessions.Open(token), CookieOptions());
        http.Response.StatusCode = StatusCodes.Status303SeeOther;
        http.Response.Headers.Location = "/ui/";
    }

    private static CookieOptions CookieOptions() => new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = SameSiteMode.Strict,
        Path = "/ui/",
        MaxAge = UiSessions.SessionIdle,
    };

    /// <summary>
    /// A form post must come from the page itself: the browser's Sec-Fetch-Site says so, or, from a browser without it,
    /// an Origin naming this server. A request with neither comes from no browser (curl), which sends no cookies of
    /// a victim either.
    /// </summary>
    private static void RequireSameOrigin(HttpContext http)
    {
        string site = http.Request.Headers["Sec-Fetch-Site"].ToString();
        string origin = http.Request.Headers.Origin.ToString();
        bool same = site.Length > 0
            ? site is "same-origin" or "none"
            : origin.Length == 0 || string.Equals(origin, $"https://{http.Request.Host}", StringComparison.OrdinalIgnoreCase);
        if (!same)
        {
            throw ApiException.Forbidden("ui", "login", "cross-site request refused: the request did not come from the page's origin");
        }
    }

    /// <summary>Server-sent events: the hub's snapshot of what the session's user may see, then its batches, until the page goes.</summary>
    private async Task EventsAsync(HttpContext http, Session session)
    {
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        ChannelReader<string> reader = _hub.Subscribe(session.Id, new UiAccess(session.User, _authorizer), out string stream);
        try
        {
            await http.Response.WriteAsync("retry: 1000\n\n", http.RequestAborted);
            await foreach (string frame in reader.ReadAllAsync(http.RequestAborted))
            {
                await http.Response.WriteAsync(frame, http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The page went away.
        }
        finally
        {
            _hub.Unsubscribe(stream);
        }
    }

    /// <summary>
    /// <c>POST /ui/api/flow</c> (<c>{"stream","namespace","name"}</c>; no name: none): the Service whose flow the page's
    /// stream shows. 404 for a stream that is not this session's; 403 when the user may not see that Service's trace.
    /// </summary>
    private async Task FlowAsync(HttpContext http, Session session)
    {
        RequireSameOrigin(http);
        JsonObject body;
        try
        {
            body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted) as JsonObject
                ?? throw ApiException.BadRequest("a JSON object is required");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw ApiException.BadRequest("the body is not JSON: " + e.Message);
        }

        string stream = (string?)body["stream"] ?? throw ApiException.BadRequest("stream is required");
        string? service = (string?)body["name"] is { Length: > 0 } name
            ? ((string?)body["namespace"] is { Length: > 0 } ns ? ns + "/" + name : throw ApiException.BadRequest("namespace is required with name"))
            : null;
        if (!_hub.SelectFlow(stream, session.Id, service, out string? refused))
        {
            throw ApiException.NotFound("streams", stream);
        }

        if (refused is not null)
        {
            throw ApiException.ForbiddenRequest("", "services", service!, refused);
        }

        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>What each node's proxy programmed for a Service, through <c>nodes/NODE:PORT/proxy/rules</c> as the session's identity.</summary>
    private async Task RulesAsync(HttpContext http, string token)
    {
        (string ns, string name) = Named(http);
        V1NodeList nodes = await GetAsync<V1NodeList>("api/v1/nodes", token, http.RequestAborted);
        var results = new JsonArray();
        foreach (V1Node node in nodes.Items)
        {
            if (node.Metadata.Annotations is null || !node.Metadata.Annotations.TryGetValue(TraceSource.ProxyPortAnnotation, out string? port))
            {
                continue;
            }

            string path = $"api/v1/nodes/{Uri.EscapeDataString(node.Metadata.Name)}:{Uri.EscapeDataString(port)}/proxy/rules?namespace={Uri.EscapeDataString(ns)}&name={Uri.EscapeDataString(name)}";
            try
            {
                JsonObject rules = JsonNode.Parse(await GetStringAsync(path, token, http.RequestAborted))!.AsObject();
                rules["node"] = node.Metadata.Name;
                results.Add((JsonNode)rules);
            }
            catch (UiUpstreamException e)
            {
                results.Add((JsonNode)new JsonObject { ["node"] = node.Metadata.Name, ["error"] = e.Message });
            }
        }

        await ApiJson.WriteAsync(http, StatusCodes.Status200OK, new JsonObject { ["namespace"] = ns, ["name"] = name, ["nodes"] = results });
    }

    /// <summary>A pod's phase, IP, node and containers, and its first container's last log lines.</summary>
    private async Task PodAsync(HttpContext http, string token)
    {
        (string ns, string name) = Named(http);
        string podPath = $"api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods/{Uri.EscapeDataString(name)}";
        V1Pod pod = await GetAsync<V1Pod>(podPath, token, http.RequestAborted);
        JsonObject summary = UiObjects.Pod(pod);
        var logs = new JsonObject();
        foreach (V1Container container in pod.Spec?.Containers ?? [])
        {
            try
            {
                logs[container.Name] = await GetStringAsync($"{podPath}/log?tailLines=20&container={Uri.EscapeDataString(container.Name)}", token, http.RequestAborted);
            }
            catch (UiUpstreamException e)
            {
                logs[container.Name] = e.Message;
            }
        }

        summary["logs"] = logs;
        await ApiJson.WriteAsync(http, StatusCodes.Status200OK, summary);
    }

    private static (string Namespace, string Name) Named(HttpContext http)
    {
        string ns = http.Request.Query["namespace"].ToString();
        string name = http.Request.Query["name"].ToString();
        if (ns.Length == 0 || name.Length == 0)
        {
            throw ApiException.BadRequest("namespace and name are required");
        }

        return (ns, name);
    }

    private async Task<T> GetAsync<T>(string path, string token, CancellationToken cancellationToken)
    {
        try
        {
            return ModelJson.FromUtf8Bytes<T>(Encoding.UTF8.GetBytes(await GetStringAsync(path, token, cancellationToken)))
                ?? throw ApiException.Internal($"empty answer from {path}");
        }
        catch (UiUpstreamException e)
        {
            throw new ApiException(e.Status);
        }
    }

    /// <summary>A GET through this API server, authenticated as the session: its answer, or its Status as an exception.</summary>
    private async Task<string> GetStringAsync(string path, string token, CancellationToken cancellationToken)
    {
        KubernetesClientConfiguration config = _config();
        _self ??= new HttpClient(TraceSource.Handler(config)) { BaseAddress = new Uri(config.Host.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using HttpResponseMessage response = await _self.SendAsync(request, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            V1Status status = TryStatus(body) ?? new V1Status { Code = (int)response.StatusCode, Message = body.Trim(), Reason = response.StatusCode.ToString(), Status = "Failure" };
            throw new UiUpstreamException(status);
        }

        return body;
    }

    private static V1Status? TryStatus(string body)
    {
        try
        {
            return ModelJson.FromUtf8Bytes<V1Status>(Encoding.UTF8.GetBytes(body)) is { Kind: "Status" } status ? status : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>An embedded file of the page; <paramref name="notice"/> goes where the login form has its placeholder.</summary>
    private static async Task AssetAsync(HttpContext http, string name, string notice = "")
    {
        using Stream? stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ui/" + name);
        if (stream is null || !ContentTypes.TryGetValue(Path.GetExtension(name), out string? type))
        {
            throw ApiException.PathNotFound();
        }

        http.Response.ContentType = type;
        if (name == "login.html")
        {
            using var reader = new StreamReader(stream);
            await http.Response.WriteAsync((await reader.ReadToEndAsync(http.RequestAborted)).Replace("<!--notice-->", notice, StringComparison.Ordinal), http.RequestAborted);
            return;
        }

        await stream.CopyToAsync(http.Response.Body, http.RequestAborted);
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "web view: a login from {Address} gave a token that was not accepted")]
    private static partial void LogLoginRefused(ILogger logger, IPAddress? address);

    /// <summary>A live session: its cookie's id, the token it was opened with, and who that token is now.</summary>
    private sealed record Session(string Id, string Token, UserInfo User);

    /// <summary>A request the page made through the API server was answered with an error Status.</summary>
    private sealed class UiUpstreamException(V1Status status) : Exception(status.Message)
    {
        public V1Status Status { get; } = status;
    }
}
