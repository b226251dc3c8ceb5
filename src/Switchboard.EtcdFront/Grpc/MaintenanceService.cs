using Grpc.Core;
using Switchboard.EtcdFront.Protocol;
using Switchboard.Storage;

namespace Switchboard.EtcdFront.Grpc;

/// <summary>
/// etcd's Maintenance service, as far as a single member over SQLite has answers: Status (version, database size,
/// revision, itself as leader) and Alarm (never any). Defragment, Hash, Snapshot, MoveLeader and Downgrade are Unimplemented.
/// </summary>
internal sealed class MaintenanceService(IKeyValueStore store, FrontIdentity identity, EtcdFrontOptions options) : Maintenance.MaintenanceBase
{
    public override async Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        long revision = await store.GetRevisionAsync(context.CancellationToken);
        long size = DatabaseSize();
        return new StatusResponse
        {
            Header = identity.Header(revision),
            Version = FrontIdentity.Version,
            DbSize = size,
            DbSizeInUse = size,
            Leader = identity.MemberId,
            RaftIndex = (ulong)revision,
            RaftAppliedIndex = (ulong)revision,
            RaftTerm = 1,
            IsLearner = false,
        };
    }

    public override async Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context)
    {
        if (request.Action != AlarmRequest.Types.AlarmAction.Get)
        {
            throw FrontErrors.Unimplemented("raising or clearing alarms");
        }

        return new AlarmResponse { Header = identity.Header(await store.GetRevisionAsync(context.CancellationToken)) };
    }

    /// <summary>The SQLite file and its write-ahead log, as etcd counts its bbolt file.</summary>
    private long DatabaseSize() =>
        options.DatabaseFile is not { } file ? 0
        : new[] { file, file + "-wal" }.Select(f => new FileInfo(f)).Where(f => f.Exists).Sum(f => f.Length);
}
