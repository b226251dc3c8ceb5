using System.Threading.Channels;
using k8s;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>
/// A list-then-watch loop as client-go's reflector runs it, written on KubernetesClient: list, watch from the list's
/// resourceVersion, and whenever the watch ends or a request fails, back off briefly and list again.
/// </summary>
public sealed class ServiceInformer : IAsyncDisposable
{
    private static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(200);
    private readonly Kubernetes _client;
    private readonly string _namespace;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<string> _seen = Channel.CreateUnbounded<string>();
    private readonly Task _loop;
    private int _lists;

    public ServiceInformer(Kubernetes client, string ns)
    {
        _client = client;
        _namespace = ns;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>How many times the loop has listed successfully.</summary>
    public int Lists => Volatile.Read(ref _lists);

    /// <summary>Waits until the informer has seen a service of that name (from a list or as ADDED/MODIFIED).</summary>
    public async Task WaitForAsync(string name, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            while (await _seen.Reader.ReadAsync(timeout.Token) != name)
            {
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the informer did not see service {name} within {deadline} (lists so far: {Lists})");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var list = await _client.CoreV1.ListNamespacedServiceAsync(_namespace, cancellationToken: _stop.Token);
                Interlocked.Increment(ref _lists);
                foreach (var item in list.Items)
                {
                    _seen.Writer.TryWrite(item.Metadata.Name);
                }

                var watch = _client.CoreV1.WatchListNamespacedServiceAsync(
                    _namespace, allowWatchBookmarks: true, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: _stop.Token);
                await foreach (var (type, service) in watch)
                {
                    if (type is WatchEventType.Added or WatchEventType.Modified)
                    {
                        _seen.Writer.TryWrite(service.Metadata.Name);
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or k8s.Autorest.HttpOperationException or KubernetesException or OperationCanceledException)
            {
                // The server is away (restarting) or cut the stream: list again after a pause, as a reflector does.
            }

            try
            {
                await Task.Delay(Backoff, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
