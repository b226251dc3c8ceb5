using Grpc.Core;
using Switchboard.EtcdFront.Leases;
using Switchboard.EtcdFront.Protocol;
using Switchboard.Storage;

namespace Switchboard.EtcdFront.Grpc;

/// <summary>etcd's Lease service over the front's <see cref="Lessor"/>.</summary>
internal sealed class LeaseService(IKeyValueStore store, Lessor lessor, FrontIdentity identity) : Lease.LeaseBase
{
    public override async Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context)
    {
        var (id, ttl) = lessor.Grant(request.ID, request.TTL);
        return new LeaseGrantResponse { Header = await HeaderAsync(context), ID = id, TTL = ttl };
    }

    public override async Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context)
    {
        if (!await lessor.RevokeAsync(request.ID, context.CancellationToken))
        {
            throw new RpcException(new Status(StatusCode.NotFound, FrontErrors.LeaseNotFound));
        }

        return new LeaseRevokeResponse { Header = await HeaderAsync(context) };
    }

    public override async Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            long id = requestStream.Current.ID;
            long ttl = lessor.Renew(id);
            await responseStream.WriteAsync(new LeaseKeepAliveResponse { Header = await HeaderAsync(context), ID = id, TTL = ttl }, context.CancellationToken);
        }
    }

    public override async Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context)
    {
        var (remaining, granted, keys) = lessor.TimeToLive(request.ID);
        var response = new LeaseTimeToLiveResponse { Header = await HeaderAsync(context), ID = request.ID, TTL = remaining, GrantedTTL = granted };
        if (request.Keys)
        {
            response.Keys.AddRange(keys.Select(FrontKeys.Bytes));
        }

        return response;
    }

    public override async Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context)
    {
        var response = new LeaseLeasesResponse { Header = await HeaderAsync(context) };
        response.Leases.AddRange(lessor.Leases().Select(id => new LeaseStatus { ID = id }));
        return response;
    }

    private async Task<ResponseHeader> HeaderAsync(ServerCallContext context) => identity.Header(await store.GetRevisionAsync(context.CancellationToken));
}
