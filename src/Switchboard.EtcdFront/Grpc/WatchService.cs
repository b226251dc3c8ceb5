using Grpc.Core;
using Switchboard.EtcdFront.Protocol;

namespace Switchboard.EtcdFront.Grpc;

/// <summary>etcd's Watch service: one <see cref="WatchSession"/> per bidirectional stream, with as many watches as the client creates.</summary>
internal sealed class WatchService(Storage.IKeyValueStore store, FrontIdentity identity, EtcdFrontOptions options, TimeProvider time) : Watch.WatchBase
{
    public override async Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        await using var session = new WatchSession(store, identity, responseStream, options.ProgressNotifyInterval, time, cancellationToken);
        while (await requestStream.MoveNext(cancellationToken))
        {
            await session.HandleAsync(requestStream.Current);
        }

        // As etcd: a client that stops sending keeps its watches until it cancels the stream.
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
