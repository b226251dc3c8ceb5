using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Streaming;

/// <summary>
/// Forwards a client's request to a node's HTTPS port as kube-apiserver's upgrade-aware proxy does: a plain request's
/// answer is streamed back chunk by chunk (the node's error Status with its code); an upgrade request (WebSocket, SPDY)
/// goes with the client's upgrade headers, and on the node's 101 the client gets the node's 101 headers and the two
/// connections are joined byte for byte, without re-framing, until either side is done.
/// </summary>
internal static class KubeletProxy
{
    /// <summary>The headers of an upgrade that the node must see as the client sent them.</summary>
    private static readonly string[] UpgradeRequestHeaders =
        ["Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "X-Stream-Protocol-Version"];

    /// <summary>The headers of the node's 101 that the client must get.</summary>
    private static readonly string[] UpgradeResponseHeaders = ["Upgrade", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "X-Stream-Protocol-Version"];

    /// <summary>Headers of a plain answer worth passing on (the body's type and, for a failed negotiation, what the node accepts).</summary>
    private static readonly string[] PlainResponseHeaders = ["Content-Type", "X-Accepted-Stream-Protocol-Versions"];

    private const int BufferSize = 128 * 1024;

    /// <summary>Whether the client asked for a protocol upgrade over HTTP/1.1 (an HTTP/2 request never can).</summary>
    public static bool IsUpgrade(HttpContext http) =>
        http?.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true;

    /// <summary>Forwards the request to <paramref name="target"/> (the node's URL with the kubelet path and query) and relays the answer.</summary>
    public static async Task ForwardAsync(HttpContext http, KubeletClient kubelet, Uri target)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(kubelet);
        bool upgrade = IsUpgrade(http);
        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), target);
        if (upgrade)
        {
            request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
            foreach (string name in UpgradeRequestHeaders)
            {
                if (http.Request.Headers.TryGetValue(name, out var values))
                {
                    request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
                }
            }
        }
        else if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(http.Request.Body);
            if (http.Request.ContentType is { } contentType)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        if (http.Request.Headers.Accept.Count > 0)
        {
            request.Headers.TryAddWithoutValidation("Accept", (IEnumerable<string>)http.Request.Headers.Accept!);
        }

        using var response = await kubelet.SendAsync(request, http.RequestAborted);
        if (upgrade && (int)response.StatusCode == StatusCodes.Status101SwitchingProtocols)
        {
            await JoinAsync(http, response);
            return;
        }

        await RelayAsync(http, response);
    }

    /// <summary>Streams a plain answer back: its code, type and body, flushed as each chunk arrives (a followed log).</summary>
    internal static async Task RelayAsync(HttpContext http, HttpResponseMessage response)
    {
        http.Response.StatusCode = (int)response.StatusCode;
        foreach (string name in PlainResponseHeaders)
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
            {
                http.Response.Headers[name] = values.ToArray();
            }
        }

        await using var body = await response.Content.ReadAsStreamAsync(http.RequestAborted);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Answers the client's upgrade with the node's 101 headers, then copies bytes both ways.</summary>
    private static async Task JoinAsync(HttpContext http, HttpResponseMessage response)
    {
        foreach (string name in UpgradeResponseHeaders)
        {
            if (response.Headers.TryGetValues(name, out var values))
            {
                http.Response.Headers[name] = values.ToArray();
            }
        }

        await using var node = await response.Content.ReadAsStreamAsync(http.RequestAborted);
        if (!node.CanWrite)
        {
            throw ApiException.Internal("the node's upgraded connection cannot be written to");
        }

        await using var client = await http.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var up = CopyAsync(client, node, stop.Token);
        var down = CopyAsync(node, client, stop.Token);
        // The client finishing its side (EOF) leaves the node's answer to run to its end; the node finishing, or either
        // side failing, ends the session.
        if (await Task.WhenAny(up, down) == up && up.IsCompletedSuccessfully)
        {
            await down;
        }

        await stop.CancelAsync();
        await Task.WhenAll(up, down);
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/> until EOF; a failure or the stop just ends it (the caller closes both).</summary>
    private static async Task CopyAsync(Stream source, Stream target, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await target.FlushAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // A connection reset, or the other direction ended the session.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
