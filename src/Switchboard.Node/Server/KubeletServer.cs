using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Networking;

namespace Switchboard.Node.Server;

/// <summary>
/// The node's HTTPS port, kubelet's :10250: TLS with the node's serving certificate, and x509 client authentication
/// against the client CA (a request without a certificate issued by it gets 401, as kubelet answers with anonymous
/// auth off). Handlers are mounted by path prefix, so the log, exec and attach endpoints can join
/// <c>/metrics/resource</c> and <c>/healthz</c>.
/// </summary>
internal sealed class KubeletServer : IAsyncDisposable
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private readonly WebApplication _app;
    private readonly X509Certificate2 _serving;
    private readonly X509Certificate2Collection _clientCas;

    private KubeletServer(WebApplication app, X509Certificate2 serving, X509Certificate2Collection clientCas, int port)
    {
        _app = app;
        _serving = serving;
        _clientCas = clientCas;
        Port = port;
    }

    /// <summary>The bound port (the one the kernel chose when 0 was asked for).</summary>
    public int Port { get; }

    /// <summary>Starts serving <paramref name="handlers"/> (path prefix → handler) once a caller is authenticated.</summary>
    public static async Task<KubeletServer> StartAsync(KubeletServerOptions options, IReadOnlyDictionary<string, RequestDelegate> handlers, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handlers);
        var serving = X509Certificate2.CreateFromPemFile(options.CertificateFile, options.KeyFile);
        var clientCas = new X509Certificate2Collection();
        clientCas.ImportFromPemFile(options.ClientCaFile);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.Address, options.Port, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serving,
                // Any certificate (or none) completes the handshake; the request is then answered 401 unless it is the CA's.
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                ClientCertificateValidation = (_, _, _) => true,
            }));
        });
        // A streamed download (port-forward, exec output) goes out in full 16 KiB TLS records, not one per 4 KiB block.
        TlsRecordMemoryPool.AddTo(builder.Services);
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (!IsIssuedBy(context.Connection.ClientCertificate, clientCas))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await context.Response.WriteAsync("Unauthorized", context.RequestAborted);
                return;
            }

            await next(context);
        });
        // exec, attach and port-forward upgrade to WebSockets (kubectl 1.32's first choice).
        app.UseWebSockets();
        foreach (var (prefix, handler) in handlers)
        {
            app.Map(prefix, branch => branch.Run(handler));
        }

        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new KubeletServer(app, serving, clientCas, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
        _serving.Dispose();
        foreach (var ca in _clientCas)
        {
            ca.Dispose();
        }
    }

    /// <summary>Whether <paramref name="certificate"/> is a client certificate that chains to one of <paramref name="cas"/>.</summary>
    private static bool IsIssuedBy(X509Certificate2? certificate, X509Certificate2Collection cas)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        return chain.Build(certificate);
    }
}
