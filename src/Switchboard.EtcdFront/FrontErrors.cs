using Grpc.Core;
using Grpc.Core.Interceptors;
using Switchboard.Storage;

namespace Switchboard.EtcdFront;

/// <summary>
/// The gRPC statuses etcd answers with (etcdserver/api/v3rpc/rpctypes), for the store's failures: every call's
/// <see cref="StorageException"/> becomes the status etcd would give, so no failure is a silent success.
/// </summary>
internal sealed class FrontErrors : Interceptor
{
    public const string Compacted = "etcdserver: mvcc: required revision has been compacted";
    public const string FutureRevision = "etcdserver: mvcc: required revision is a future revision";
    public const string LeaseNotFound = "etcdserver: requested lease not found";

    public static RpcException From(StorageException e) => e.Error switch
    {
        StorageError.Compacted => new RpcException(new Status(StatusCode.OutOfRange, Compacted)),
        StorageError.FutureRevision => new RpcException(new Status(StatusCode.OutOfRange, FutureRevision)),
        StorageError.InvalidArgument => new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: " + e.Message)),
        StorageError.Unavailable => new RpcException(new Status(StatusCode.Unavailable, "etcdserver: " + e.Message)),
        StorageError.LeaseNotFound => new RpcException(new Status(StatusCode.NotFound, LeaseNotFound)),
        _ => new RpcException(new Status(StatusCode.FailedPrecondition, "etcdserver: " + e.Message)),
    };

    public static RpcException Unimplemented(string what) => new(new Status(StatusCode.Unimplemented, $"etcdserver: {what} is not supported by this store"));

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (StorageException e)
        {
            throw From(e);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (StorageException e)
        {
            throw From(e);
        }
    }
}
