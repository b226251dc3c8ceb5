using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Switchboard.ApiServer.Streaming;

/// <summary>
/// Forwards a client's request to a node's HTTPS port as kube-apiserver's upgrade-aware proxy does: a plain request's
/// answer is streamed back chunk by chunk (the node's error Status with its code); an upgrade request (WebSocket, SPDY)
/// goes line for line with the client's upgrade headers on a connection of its own, and on the node's 101 the client gets the node's 101 headers and the two
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
        if (IsUpgrade(http))
        {
            await UpgradeAsync(http, kubelet, target);
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), target);
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
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

    /// <summary>
    /// Sends the client's upgrade to the node; on its 101 answers the client with the node's 101 headers and joins the
    /// two connections, else relays the node's answer as it is.
    /// </summary>
    private static async Task UpgradeAsync(HttpContext http, KubeletClient kubelet, Uri target)
    {
        var headers = UpgradeRequestHeaders.SelectMany(name => http.Request.Headers[name].Select(value => (name, value ?? "")));
        await using var node = await kubelet.UpgradeAsync(http.Request.Method, target, headers, http.RequestAborted);
        var answer = node.StatusCode == StatusCodes.Status101SwitchingProtocols ? UpgradeResponseHeaders : PlainResponseHeaders;
        foreach (string name in answer)
        {
            string[] values = [.. node.Headers.Where(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value)];
            if (values.Length > 0)
            {
                http.Response.Headers[name] = values;
            }
        }

        if (node.StatusCode != StatusCodes.Status101SwitchingProtocols)
        {
            http.Response.StatusCode = node.StatusCode;
            await http.Response.Body.WriteAsync(node.Body, http.RequestAborted);
            return;
        }

        await using var client = await http.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync();
        await client.WriteAsync(node.Early, http.RequestAborted);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var up = CopyAsync(client, node.Tls, stop.Token);
        var down = CopyAsync(node.Tls, client, stop.Token);
        if (await Task.WhenAny(up, down) == up && await up)
        {
            // The client is done sending: the node is told (TLS close_notify) and its answer runs to its end.
            try
            {
                await node.Tls.ShutdownAsync();
            }
            catch (IOException)
            {
                // The node is gone already; the copy below ends with it.
            }

            await down;
        }

        await stop.CancelAsync();
        await Task.WhenAll(up, down);
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/>: true once the source ended cleanly, false when a
    /// connection failed or the stop came (the caller closes both). What the source has ready without waiting (TLS
    /// records already in, bytes already in the socket) joins one write, and the next read is under way while a write
    /// is: a TLS source hands over a record or two per read, and a write and flush per record, each a trip through
    /// the client connection's TLS and socket queues, cost more than the bytes. Nothing waits for more bytes, so an
    /// interactive stream's keystroke goes on at once.
    /// </summary>
    private static async Task<bool> CopyAsync(Stream source, Stream target, CancellationToken cancellationToken)
    {
        byte[] current = ArrayPool<byte>.Shared.Rent(BufferSize);
        byte[] spare = ArrayPool<byte>.Shared.Rent(BufferSize);
        ValueTask<int> read = default;
        bool reading = false;
        try
        {
            // The bytes to write are current[start..end); a read under way fills current[end..], or spare once current is full.
            int start = 0;
            int end = await source.ReadAsync(current, cancellationToken);
            while (end > start)
            {
                bool intoSpare;
                while (true)
                {
                    intoSpare = end == current.Length;
                    read = source.ReadAsync(intoSpare ? spare : current.AsMemory(end), cancellationToken);
                    reading = true;
                    if (intoSpare || !read.IsCompleted)
                    {
                        break;
                    }

                    reading = false;
                    int ready = read.GetAwaiter().GetResult();
                    if (ready == 0)
                    {
                        break;
                    }

                    end += ready;
                }

                await target.WriteAsync(current.AsMemory(start, end - start), cancellationToken);
                await target.FlushAsync(cancellationToken);
                if (!reading)
                {
                    // The source ended while its last bytes were being taken.
                    return true;
                }

                reading = false;
                int count = await read;
                if (intoSpare)
                {
                    (current, spare) = (spare, current);
                    start = 0;
                    end = count;
                }
                else
                {
                    start = end;
                    end += count;
                }
            }

            return true;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // A connection reset, or the other direction ended the session.
            return false;
        }
        finally
        {
            // A read still under way owns its buffer: that one is left to the collector rather than handed to another user.
            if (!reading || read.IsCompleted)
            {
                ArrayPool<byte>.Shared.Return(current);
                ArrayPool<byte>.Shared.Return(spare);
            }
        }
    }
}
