using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer.Allocation;
using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Hosting;
using Switchboard.ApiServer.Http;
using Switchboard.ApiServer.Metrics;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Requests;
using Switchboard.ApiServer.Security;
using Switchboard.ApiServer.Streaming;
using Switchboard.ApiServer.Ui;
using Switchboard.ApiServer.Usage;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;
using Switchboard.Kube.Networking;
using Switchboard.Storage;

namespace Switchboard.ApiServer;

/// <summary>
/// The Kubernetes-compatible API server as a component: HTTPS with a generated CA, bearer-token auth, and the REST
/// API over an <see cref="IKeyValueStore"/>. Its start returns once it serves and DATA_DIR/kubeconfig is written, so
/// the components after it in <c>switchboard up</c> can be its clients; it then repairs allocations periodically. Its
/// web view follows the objects through the process's informers (<c>clients</c>: in <c>up</c> the ones the controllers,
/// DNS and proxy share), or, without any (the API server alone), through its own made from its loopback configuration.
/// </summary>
public sealed partial class ApiServerService(
    ApiServerOptions options, IKeyValueStore store, MetricsRegistry metrics, Readiness readiness, ILoggerFactory loggerFactory, TimeProvider time, Func<KubeClientSource?>? clients = null)
    : Component(ComponentName)
{
    public const string ComponentName = "apiserver";

    /// <summary>The request line, and all the headers, a request may have.</summary>
    private const int MaxRequestHeadBytes = 64 * 1024;

    private readonly ILogger _logger = loggerFactory.CreateLogger<ApiServerService>();
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private WebApplication? _podApp;
    private Socket? _podListener;
    private Func<Action<KestrelServerOptions>, WebApplication>? _serve;
    private HttpsConnectionAdapterOptions? _https;
    private ResourceCatalog? _catalog;
    private ApiServerMetrics? _metrics;
    private KubeletClient? _kubelet;
    private ServiceProxy? _services;
    private UiHandler? _ui;
    private Uri? _url;
    private string? _kubeconfigPath;
    private ClusterCredentials? _credentials;
    private ServiceAccountTokens? _serviceAccountTokens;

    /// <summary>The HTTPS URL the server answers on.</summary>
    public Uri Url => _url ?? throw new InvalidOperationException("the API server has not started");

    /// <summary>DATA_DIR/kubeconfig: CA data, server URL and the admin token.</summary>
    public string KubeconfigPath => _kubeconfigPath ?? throw new InvalidOperationException("the API server has not started");

    /// <summary>
    /// What <see cref="KubeconfigPath"/> says (server URL, CA, admin token), for the clients in this process. Reading
    /// the file back would go through KubernetesClient's YAML loader, whose first use loads every type of that library
    /// to map kinds to models: start-up time and resident memory that nothing in the process needs.
    /// </summary>
    public KubernetesClientConfiguration ClientConfiguration => new()
    {
        Host = Url.AbsoluteUri.TrimEnd('/'),
        SslCaCerts = new X509Certificate2Collection(_credentials!.CertificateAuthority),
        AccessToken = _credentials.AdminToken,
        Namespace = "default",
    };

    /// <summary>
    /// A client of this server for a component of the process that authenticates as <paramref name="user"/> (in
    /// <paramref name="group"/>) by a client certificate the cluster CA issues now and that lives only in memory: each
    /// component of <c>up</c> its own identity, as kube-controller-manager, kube-proxy, CoreDNS and each kubelet have
    /// theirs, so RBAC grants it its own role (<see cref="Authorization.BootstrapPolicy"/>) and not the admin's.
    /// </summary>
    public KubernetesClientConfiguration ClientConfigurationFor(string user, string? group = null)
    {
        using var certificate = ClusterCredentials.Issue(options.DataDirectory, time, user, group, null);
        using var key = certificate.GetECDsaPrivateKey()!;
        var config = ClientConfiguration;
        config.AccessToken = null;
        config.ClientCertificateData = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()));
        config.ClientCertificateKeyData = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));
        return config;
    }

    public override void Dispose()
    {
        _stopping.Dispose();
        base.Dispose();
    }

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        // The certificate names the kubernetes Service's ClusterIP too, which clients in pods dial.
        var credentials = ClusterCredentials.LoadOrCreate(options.DataDirectory, time, [.. ServingAddresses(), ClusterIpRange.Parse(options.ServiceClusterIpRange).AddressAt(0)]);
        var context = new RegistryContext(store, time, Random.Shared, _stopping.Token) { BookmarkInterval = options.WatchBookmarkInterval, WatchBufferBytes = options.WatchBufferBytes };
        var catalog = new ResourceCatalog(context, options, loggerFactory);

        // Before any write is taken: allocations a crash left behind are found (and released a repair interval later).
        await catalog.Repair.RunOnceAsync(cancellationToken);
        _metrics = new ApiServerMetrics(metrics, store, catalog.Handlers.Select(h => h.Kind), time);
        _kubelet = new KubeletClient(catalog.Nodes, KubeletCertificates.EnsureApiServerClient(options.DataDirectory, time), credentials.CertificateAuthority, time);
        _services = new ServiceProxy(options.ProxiedServices);
        _serviceAccountTokens = ServiceAccountTokens.LoadOrCreate(options.DataDirectory);
        var tokens = new TokenRequests(_serviceAccountTokens, catalog.ServiceAccounts, catalog.Pods, catalog.Secrets, catalog.Nodes, time);
        var tokenFile = options.TokenAuthFile is { } tokenFilePath ? TokenAuthFile.Load(tokenFilePath) : TokenAuthFile.Empty;
        var rbac = new RbacCache(catalog.ClusterRoles, catalog.Roles, catalog.ClusterRoleBindings, catalog.RoleBindings, loggerFactory.CreateLogger<RbacCache>());
        await rbac.StartAsync(_stopping.Token);
        var authorizer = new RequestAuthorizer(() => rbac.Policy);
        catalog.Escalation.Authorizer = authorizer;
        var security = new RequestSecurity(new RequestAuthenticator(credentials, tokenFile, _serviceAccountTokens, tokens, time), authorizer, new AccessReviews(authorizer), tokens);
        _ui = new UiHandler(clients?.Invoke(), () => ClientConfiguration, security.Authenticator, authorizer, loggerFactory, time);
        var handler = new ApiRequestHandler(security, catalog.Handlers, new NodeStreams(catalog.Pods, _kubelet), _services, new EvictionHandler(catalog.Pods, catalog.DisruptionBudgets, context),
            new MetricsApiHandler(new NodeUsage(catalog.Nodes, _kubelet, time), catalog.Pods, time), readiness, _metrics, _logger, _ui);

        var inflight = new InflightLimits(options.MaxRequestsInflight, options.MaxMutatingRequestsInflight, options.MaxLongRunningRequests);
        _serve = kestrelListen => Serve(kestrelListen, credentials.ServingCertificate, inflight, handler);
        _app = _serve(kestrel => kestrel.Listen(options.Address, options.Port, Https));
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int port = new Uri(address).Port;
        string host = options.Address.Equals(IPAddress.Any) ? "127.0.0.1" : options.Address.ToString();
        var url = new Uri($"https://{(options.Address.Equals(IPAddress.IPv6Loopback) ? "[::1]" : host)}:{port}");

        // Serving pods, the server publishes its endpoints once it listens in the node's namespace (ServePodsAsync).
        await ClusterBootstrap.EnsureAsync(catalog, options.InCluster is null ? host : null, port, cancellationToken);
        _kubeconfigPath = Kubeconfig.Write(options.DataDirectory, url, credentials);
        _url = url;
        _credentials = credentials;
        _catalog = catalog;
        LogServing(_logger, url, _kubeconfigPath);
        MarkReady();
    }

    protected override Task RunAsync(CancellationToken stoppingToken) => Task.WhenAll(
        _catalog!.Repair.RunPeriodicallyAsync(options.AllocationRepairInterval, stoppingToken),
        options.InCluster is { } inCluster ? ServePodsAsync(inCluster, stoppingToken) : Task.CompletedTask);

    /// <summary>
    /// The server on one more listener, with the same certificate, limits and handler: Kestrel's HTTPS with the client
    /// certificate asked for but not required (one the cluster CA issued authenticates its CN, and O as groups, checked
    /// by the authenticator, which also answers 401 for one it did not issue).
    /// </summary>
    private WebApplication Serve(Action<KestrelServerOptions> listen, X509Certificate2 certificate, InflightLimits inflight, ApiRequestHandler handler)
    {
        _https ??= new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (_, _, _) => true,
        };
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RequestLimits.MaxBytes;
            // Go's net/http (kube-apiserver) reads 1 MiB of request line and headers; Kestrel's 8 KiB line would answer a
            // long label selector with a bare 414 before the API could say what is wrong with it.
            kestrel.Limits.MaxRequestLineSize = MaxRequestHeadBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadBytes;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = MaxRequestHeadBytes;
            // An upgraded connection (exec, attach, port-forward relayed to a node) is under neither the body size nor
            // the data rate limits in Kestrel, and a followed log is a response: none of them cuts a long stream. The
            // WebSocket and SPDY upgrades are HTTP/1.1, which TLS offers beside h2 (ALPN), as kubectl asks for.
            listen(kestrel);
        });
        // A relayed stream (port-forward, exec, a followed log) goes out in full 16 KiB TLS records, not one per 4 KiB block.
        TlsRecordMemoryPool.AddTo(builder.Services);
        var app = builder.Build();
        app.Use(_metrics!.InvokeAsync);
        app.Use(inflight.InvokeAsync);
        app.Run(handler.InvokeAsync);
        return app;
    }

    private void Https(ListenOptions listen) => listen.UseHttps(_https!);

    /// <summary>
    /// Serves pods, as the <c>kubernetes</c> Service's endpoint: once the node agent has made its namespace and the node
    /// has its pod CIDR, a listener on the node's gateway address (the API's port) inside that namespace, then the
    /// Service's Endpoints and EndpointSlice pointing there (kube-apiserver's advertise address). Pods reach it through
    /// the ClusterIP and the proxy's rules, as they reach DNS; the server itself stays on loopback in the host's
    /// namespace, which it never changes. IP_FREEBIND lets the bind come before the agent has put the address on the bridge.
    /// </summary>
    private async Task ServePodsAsync(InClusterApiOptions inCluster, CancellationToken stoppingToken)
    {
        const int IpProtocolIp = 0, IpFreeBind = 15;
        await NetnsDialer.WaitForNamespaceAsync(inCluster.NodeNamespace, inCluster.Poll, time, stoppingToken);
        IPAddress gateway;
        while (true)
        {
            if ((await _catalog!.Nodes.TryGetAsync(null, inCluster.NodeName, stoppingToken))?.Spec?.PodCIDR is { } text && Ipv4Cidr.TryParse(text, out var podCidr))
            {
                gateway = podCidr.AddressAt(1);
                break;
            }

            await Task.Delay(inCluster.Poll, time, stoppingToken);
        }

        int port = Url.Port;
        using (var dialer = new NetnsDialer(inCluster.NodeNamespace))
        {
            _podListener = await dialer.CreateAsync(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        }

        _podListener.SetRawSocketOption(IpProtocolIp, IpFreeBind, BitConverter.GetBytes(1));
        _podListener.Bind(new IPEndPoint(gateway, port));
        _podListener.Listen();
        var handle = (ulong)_podListener.Handle;
        _podApp = _serve!(kestrel => kestrel.ListenHandle(handle, Https));
        await _podApp.StartAsync(stoppingToken);
        await ClusterBootstrap.PublishEndpointsAsync(_catalog, gateway.ToString(), port, stoppingToken);
        LogServingPods(_logger, gateway, port, inCluster.NodeNamespace);
    }

    protected override async Task CloseAsync(CancellationToken cancellationToken)
    {
        // Open watches end first, as kube-apiserver closes them on shutdown; clients then list and watch again.
        await _stopping.CancelAsync();
        if (_ui is not null)
        {
            // The pages' event streams end with the hub, so stopping does not wait for them.
            await _ui.DisposeAsync();
            _ui = null;
        }

        foreach (var app in new[] { _podApp, _app }.OfType<WebApplication>())
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await app.StopAsync(stop.Token);
            await app.DisposeAsync();
        }

        _podApp = null;
        _app = null;
        _podListener?.Dispose();
        _podListener = null;

        _metrics?.Dispose();
        _metrics = null;
        _kubelet?.Dispose();
        _kubelet = null;
        _services?.Dispose();
        _services = null;
        _serviceAccountTokens?.Dispose();
        _serviceAccountTokens = null;
    }

    /// <summary>
    /// The addresses the server really listens on, for its certificate to name: the one asked for, or, for the
    /// wildcard, every address of every interface (read, never changed), with a warning that the API is then
    /// reachable from other machines.
    /// </summary>
    private IReadOnlyList<IPAddress> ServingAddresses()
    {
        if (!options.Address.Equals(IPAddress.Any) && !options.Address.Equals(IPAddress.IPv6Any))
        {
            return [options.Address];
        }

        // The IPv6 wildcard socket is dual-stack in Kestrel: it takes IPv4 connections too.
        bool ipv6 = options.Address.Equals(IPAddress.IPv6Any);
        IPAddress[] addresses =
        [
            .. NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .Where(a => a.AddressFamily == AddressFamily.InterNetwork || (ipv6 && a.AddressFamily == AddressFamily.InterNetworkV6))
                .Distinct(),
        ];
        LogListeningEverywhere(_logger, options.Address, string.Join(", ", addresses.Select(a => a.ToString())));
        return addresses;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "--api-address {Address} listens on every interface: the API is reachable from other machines; its serving certificate names {Addresses}")]
    private static partial void LogListeningEverywhere(ILogger logger, IPAddress address, string addresses);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "API server serving pods on {Gateway}:{Port} in {Namespace}, the kubernetes Service's endpoint")]
    private static partial void LogServingPods(ILogger logger, IPAddress gateway, int port, string @namespace);

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "API server serving on {Url}; kubeconfig at {Kubeconfig}")]
    private static partial void LogServing(ILogger logger, Uri url, string kubeconfig);
}
