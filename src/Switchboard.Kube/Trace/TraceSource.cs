using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Switchboard.Kube.Trace;

/// <summary>
/// Reads trace events through the API server, authenticated as every other request of the client: DNS's
/// <c>/trace</c> NDJSON stream as <c>services/kube-dns:metrics/proxy/trace</c>, and each node's service proxy's as
/// <c>nodes/NODE:PORT/proxy/trace</c> (the port its Node's <see cref="ProxyPortAnnotation"/> names): one stream per
/// node, so a cluster of many nodes is read from all of them.
/// </summary>
public sealed class TraceSource(KubernetesClientConfiguration config)
{
    public const string DnsPath = "api/v1/namespaces/kube-system/services/kube-dns:metrics/proxy/trace";

    /// <summary>The Node annotation where a node's service proxy writes the port of its <c>/trace</c>.</summary>
    public const string ProxyPortAnnotation = "proxy.switchboard.io/trace-port";

    /// <summary>The streams to read: DNS's, then each node's proxy's that says where it serves.</summary>
    public static async Task<IReadOnlyList<string>> PathsAsync(IKubernetes client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        List<string> paths = [DnsPath];
        foreach (V1Node node in (await client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken)).Items)
        {
            if (node.Metadata.Annotations?.TryGetValue(ProxyPortAnnotation, out string? port) == true && int.TryParse(port, System.Globalization.CultureInfo.InvariantCulture, out int number))
            {
                paths.Add(FormattableString.Invariant($"api/v1/nodes/{Uri.EscapeDataString(node.Metadata.Name)}:{number}/proxy/trace"));
            }
        }

        return paths;
    }

    /// <summary>
    /// The events kept at <paramref name="path"/> (<paramref name="follow"/> false), or the new ones as they come (true);
    /// <paramref name="last"/> starts that many events back. Ends with the response, or throws <see cref="TraceUnavailableException"/>.
    /// </summary>
    public IAsyncEnumerable<JsonObject> ReadAsync(string path, bool follow, long? last, CancellationToken cancellationToken) =>
        ReadAsync(path, follow, last, services: [], cancellationToken);

    /// <summary>
    /// As <see cref="ReadAsync(string, bool, long?, CancellationToken)"/>, only the events about <paramref name="services"/>
    /// (<c>NAMESPACE/NAME</c>; none: every event): the source matches them in its ring and sends only those
    /// (<see cref="TraceSelection"/>), so a reader interested in few of a busy source's events costs the source neither
    /// the encoding nor the sending of the others.
    /// </summary>
    public async IAsyncEnumerable<JsonObject> ReadAsync(string path, bool follow, long? last, IReadOnlyList<string> services, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(services);
        string query = "?follow=" + (follow ? "true" : "false") + (last is { } n ? FormattableString.Invariant($"&last={n}") : "")
            + string.Concat(services.Select(s => "&service=" + Uri.EscapeDataString(s)));
        var uri = new Uri(new Uri(config.Host.TrimEnd('/') + "/"), path + query);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (config.AccessToken is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var http = new HttpClient(Handler(config)) { Timeout = Timeout.InfiniteTimeSpan };
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new TraceUnavailableException(Describe(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken)));
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length > 0 && JsonNode.Parse(line) is JsonObject e)
            {
                yield return e;
            }
        }
    }

    /// <summary>
    /// TLS as the kubeconfig says: its CA (or none checked when it says so) and its client certificate if any; for
    /// requests KubernetesClient has no call for (streams, node proxy paths with a query).
    /// </summary>
    public static SocketsHttpHandler Handler(KubernetesClientConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var tls = new SslClientAuthenticationOptions();
        if (config.SkipTlsVerify)
        {
            tls.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        else if (config.SslCaCerts is { Count: > 0 } authorities)
        {
            tls.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }

        if (config.ClientCertificateData is not null || config.ClientCertificateFilePath is not null)
        {
            static string Pem(string? data, string? file) => data is not null ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(data)) : File.ReadAllText(file!);
            tls.ClientCertificates = [X509Certificate2.CreateFromPem(Pem(config.ClientCertificateData, config.ClientCertificateFilePath), Pem(config.ClientCertificateKeyData, config.ClientKeyFilePath))];
        }

        return new SocketsHttpHandler { SslOptions = tls, UseProxy = false };
    }

    /// <summary>kubectl's wording for an error Status: <c>Error from server (Reason): message</c>.</summary>
    private static string Describe(HttpStatusCode code, string body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject status && (string?)status["message"] is { } message)
            {
                return $"Error from server ({(string?)status["reason"] ?? code.ToString()}): {message}";
            }
        }
        catch (JsonException)
        {
            // Not a Status: say what came.
        }

        return $"Error from server ({code}): {body.Trim()}";
    }
}

/// <summary>The API server refused the trace stream or could not reach its source.</summary>
public sealed class TraceUnavailableException(string message) : Exception(message);
