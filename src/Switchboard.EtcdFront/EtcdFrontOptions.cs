using System.Net;

namespace Switchboard.EtcdFront;

/// <summary>Where the etcd v3 front of the embedded store listens, and where its certificates come from.</summary>
public sealed record EtcdFrontOptions
{
    /// <summary>etcd's client port.</summary>
    public const int DefaultPort = 2379;

    /// <summary>The data directory: the cluster CA, and the front's and tools' certificates beside it.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The TLS listener (client certificates from the cluster CA required); null: none.</summary>
    public IPEndPoint? Listen { get; init; } = new(IPAddress.Loopback, DefaultPort);

    /// <summary>A plain gRPC listener without TLS, for tools; loopback only; null (the default): none.</summary>
    public IPEndPoint? PlainListen { get; init; }

    /// <summary>The SQLite file of the store, whose size Status reports as etcd's db size; null: 0.</summary>
    public string? DatabaseFile { get; init; }

    /// <summary>How often a watch created with progress_notify hears the revision while it has no events (etcd: 10 minutes).</summary>
    public TimeSpan ProgressNotifyInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The member's name in MemberList and Status.</summary>
    public string MemberName { get; init; } = "switchboard";
}
