using System.Net.Sockets;
using Grpc.Core;

namespace Switchboard.Storage.Etcd;

/// <summary>Recognises etcd's gRPC errors (etcdserver/api/v3rpc/rpctypes), which carry their meaning in the text.</summary>
internal static class EtcdErrors
{
    /// <summary>ErrGRPCCompacted: "etcdserver: mvcc: required revision has been compacted".</summary>
    public static bool IsCompacted(RpcException e) =>
        e.StatusCode == StatusCode.OutOfRange && e.Status.Detail.Contains("compacted", StringComparison.Ordinal);

    /// <summary>ErrGRPCFutureRev: "etcdserver: mvcc: required revision is a future revision".</summary>
    public static bool IsFutureRevision(RpcException e) =>
        e.StatusCode == StatusCode.OutOfRange && e.Status.Detail.Contains("future revision", StringComparison.Ordinal);

    /// <summary>ErrGRPCLeaseNotFound: "etcdserver: requested lease not found".</summary>
    public static bool IsLeaseNotFound(RpcException e) =>
        e.StatusCode == StatusCode.NotFound && e.Status.Detail.Contains("lease not found", StringComparison.Ordinal);

    /// <summary>ErrGRPCLeaseExist: "etcdserver: lease already exists".</summary>
    public static bool IsLeaseExists(RpcException e) =>
        e.StatusCode == StatusCode.FailedPrecondition && e.Status.Detail.Contains("lease already exists", StringComparison.Ordinal);

    /// <summary>
    /// No connection to the member could be made (it is down): the request never left, so any request, a write
    /// too, may go to another member. A connection lost mid-request is not this: the write may have been applied.
    /// </summary>
    public static bool NeverSent(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable
        && e.Status.DebugException is SocketException or HttpRequestException { InnerException: SocketException };

    /// <summary>A broken connection, a lost leader or a member shutting down: another member may do.</summary>
    public static bool IsTransient(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted;
}
