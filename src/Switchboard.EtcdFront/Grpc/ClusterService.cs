using Grpc.Core;
using Switchboard.EtcdFront.Protocol;
using Switchboard.Storage;

namespace Switchboard.EtcdFront.Grpc;

/// <summary>etcd's Cluster service for the one member there is; adding, removing and promoting members is Unimplemented.</summary>
internal sealed class ClusterService(IKeyValueStore store, FrontIdentity identity) : Cluster.ClusterBase
{
    public override async Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
    {
        var member = new Member { ID = identity.MemberId, Name = identity.Name };
        member.ClientURLs.AddRange(identity.ClientUrls);
        var response = new MemberListResponse { Header = identity.Header(await store.GetRevisionAsync(context.CancellationToken)) };
        response.Members.Add(member);
        return response;
    }
}
