using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer.Security;
using Switchboard.EtcdFront.Grpc;
using Switchboard.EtcdFront.V2;
using Switchboard.Kube.Hosting;
using Switchboard.Storage;

namespace Switchboard.EtcdFront;

/// <summary>
/// The etcd v3 gRPC API (KV, Watch, Lease, Maintenance, Cluster) and etcd v2's read-only keys API for /skydns, over
/// the store the API server uses, so etcdctl and etcd clients read and write the embedded cluster state. TLS with
/// client certificates from the cluster CA; a plain loopback listener only when asked for. Its start writes
/// DATA_DIR/etcd-client.crt and .key for tools. It runs after the API server, which creates the CA.
/// </summary>
public sealed partial class EtcdFrontService(EtcdFrontOptions options, IKeyValueStore store, ILoggerFactory loggerFactory, TimeProvider time)
    : Component(ComponentName)
{
    public const string ComponentName = "etcd";

    /// <summary>The largest request: etcd's --max-request-bytes (1.5 MiB) and room for the message around it.</summary>
    private const int MaxRequestBytes = 2 * 1024 * 1024;

    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly ILogger _logger = loggerFactory.CreateLogger<EtcdFrontService>();
    private WebApplication? _app;

    /// <summary>The TLS endpoint (https://127.0.0.1:PORT), once listening; null without one.</summary>
    public Uri? TlsUrl { get; private set; }

    /// <summary>The plain gRPC endpoint (http://127.0.0.1:PORT), once listening; null without one.</summary>
    public Uri? PlainUrl { get; private set; }

    /// <summary>DATA_DIR/etcd-client.crt and .key, for tools such as etcdctl.</summary>
    public (string CertificateFile, string KeyFile) ClientCertificate { get; private set; }

    /// <summary>DATA_DIR/ca.crt, the CA that the front's certificate chains to.</summary>
    public string CaFile => EtcdCertificates.CaFile(options.DataDirectory);

    /// <summary>The etcdctl command line that reaches the front with the data directory's credentials.</summary>
    public string EtcdctlCommand => TlsUrl is { } url
        ? $"etcdctl --endpoints {url.AbsoluteUri.TrimEnd('/')} --cacert {CaFile} --cert {ClientCertificate.CertificateFile} --key {ClientCertificate.KeyFile}"
        : $"etcdctl --endpoints {PlainUrl?.AbsoluteUri.TrimEnd('/')}";

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (options.PlainListen is { } plain && !IPAddress.IsLoopback(plain.Address))
        {
            throw new InvalidOperationException($"the plain etcd listener {plain} must be on loopback: without TLS anyone who reaches it reads and writes the cluster");
        }

        var identity = new FrontIdentity(options.DataDirectory, options.MemberName);
        X509Certificate2? serving = null;
        X509Certificate2? authority = null;
        if (options.Listen is { } listen)
        {
            (serving, authority) = EtcdCertificates.EnsureServing(options.DataDirectory, [listen.Address], time);
            ClientCertificate = EtcdCertificates.EnsureClient(options.DataDirectory, time);
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddLogging();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(identity);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton<V2KeysEndpoint>();
        builder.Services.AddRouting();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<FrontErrors>();
            grpc.MaxReceiveMessageSize = MaxRequestBytes;
            grpc.MaxSendMessageSize = null;
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (options.Listen is { } tls)
            {
                kestrel.Listen(tls, endpoint =>
                {
                    // gRPC is HTTP/2; etcd's v2 keys API is read with curl over HTTP/1.1: ALPN offers both.
                    endpoint.Protocols = HttpProtocols.Http1AndHttp2;
                    endpoint.UseHttps(https =>
                    {
                        https.ServerCertificate = serving;
                        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                        https.ClientCertificateValidation = (certificate, _, _) => IsClusterClient(certificate, authority!);
                    });
                });
            }

            if (options.PlainListen is { } plainListen)
            {
                kestrel.Listen(plainListen, endpoint => endpoint.Protocols = HttpProtocols.Http2);
            }
        });
        var app = builder.Build();
        app.MapGrpcService<KvService>();
        app.MapGrpcService<WatchService>();
        app.MapGrpcService<LeaseService>();
        app.MapGrpcService<MaintenanceService>();
        app.MapGrpcService<ClusterService>();
        var v2 = app.Services.GetRequiredService<V2KeysEndpoint>();
        app.MapMethods("/v2/keys/{**path}", [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Post, HttpMethods.Delete], v2.InvokeAsync);
        _app = app;
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"cannot listen for etcd clients on {options.Listen?.ToString() ?? options.PlainListen?.ToString()}: {e.Message}", e);
        }

        foreach (string address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses)
        {
            var url = new Uri(address.Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal), UriKind.Absolute);
            if (url.Scheme == Uri.UriSchemeHttps)
            {
                TlsUrl = url;
            }
            else
            {
                PlainUrl = url;
            }
        }

        identity.ClientUrls = [.. new[] { TlsUrl, PlainUrl }.OfType<Uri>().Select(u => u.AbsoluteUri.TrimEnd('/'))];
        LogServing(_logger, string.Join(", ", identity.ClientUrls));
        MarkReady();
    }

    // Leases live in the store, which expires them; the front only answers requests.
    protected override Task RunAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.Infinite, stoppingToken);

    protected override async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stop.Token);
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>Whether a client certificate was issued by the cluster CA for client authentication (and is valid now).</summary>
    private static bool IsClusterClient(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        return chain.Build(certificate);
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "etcd v3 API serving on {Urls}")]
    private static partial void LogServing(ILogger logger, string urls);
}
