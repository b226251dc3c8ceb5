using Grpc.Core;
using Switchboard.EtcdFront.Protocol;
using Switchboard.Storage;

namespace Switchboard.EtcdFront.Grpc;

/// <summary>
/// etcd's Lease service over the store's leases, which it keeps durable and expires itself (deleting the attached keys
/// at one revision); this adds etcd's own bounds on a TTL.
/// </summary>
internal sealed class LeaseService(IKeyValueStore store, FrontIdentity identity) : Lease.LeaseBase
{
    /// <summary>etcd's smallest TTL with its default election timeout (1 s): a shorter one is raised to it.</summary>
    public const long MinTtl = 2;

    /// <summary>etcd's MaxLeaseTTL.</summary>
    public const long MaxTtl = 9_000_000_000;

    public override async Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context)
    {
        if (request.TTL > MaxTtl)
        {
            throw new RpcException(new Status(StatusCode.OutOfRange, "etcdserver: too large lease TTL"));
        }

        if (request.ID < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: lease ID must be positive"));
        }

        long ttl = Math.Max(request.TTL, MinTtl);
        long id = await store.GrantLeaseAsync(request.ID, ttl, context.CancellationToken);
        return new LeaseGrantResponse { Header = await HeaderAsync(context), ID = id, TTL = ttl };
    }

    public override async Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context)
    {
        await store.RevokeLeaseAsync(request.ID, context.CancellationToken);
        return new LeaseRevokeResponse { Header = await HeaderAsync(context) };
    }

    public override async Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            long id = requestStream.Current.ID;
            long ttl = await store.KeepAliveLeaseAsync(id, context.CancellationToken);
            await responseStream.WriteAsync(new LeaseKeepAliveResponse { Header = await HeaderAsync(context), ID = id, TTL = ttl }, context.CancellationToken);
        }
    }

    public override async Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context)
    {
        var lease = await store.GetLeaseAsync(request.ID, context.CancellationToken);
        var response = new LeaseTimeToLiveResponse { Header = await HeaderAsync(context), ID = request.ID, TTL = lease?.RemainingTtl ?? -1, GrantedTTL = lease?.GrantedTtl ?? 0 };
        if (request.Keys && lease is not null)
        {
            response.Keys.AddRange(lease.Keys.Select(FrontKeys.Bytes));
        }

        return response;
    }

    public override async Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context)
    {
        var response = new LeaseLeasesResponse { Header = await HeaderAsync(context) };
        response.Leases.AddRange((await store.ListLeasesAsync(context.CancellationToken)).Select(id => new LeaseStatus { ID = id }));
        return response;
    }

    private async Task<ResponseHeader> HeaderAsync(ServerCallContext context) => identity.Header(await store.GetRevisionAsync(context.CancellationToken));
}
