using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Switchboard.EtcdFront.Protocol;

namespace Switchboard.EtcdFront;

/// <summary>
/// The one member the front presents: cluster and member ids derived from the data directory (stable across restarts,
/// different per cluster), the version of the etcd API it speaks, and the header every response carries.
/// </summary>
internal sealed class FrontIdentity
{
    /// <summary>The etcd release whose v3 API the front answers as.</summary>
    public const string Version = "3.5.0";

    public FrontIdentity(string dataDirectory, string name)
    {
        ClusterId = IdOf("cluster:" + Path.GetFullPath(dataDirectory));
        MemberId = IdOf("member:" + Path.GetFullPath(dataDirectory));
        Name = name;
    }

    public ulong ClusterId { get; }

    public ulong MemberId { get; }

    public string Name { get; }

    /// <summary>The URLs the front answers on, known once it listens.</summary>
    public IReadOnlyList<string> ClientUrls { get; set; } = [];

    /// <summary>There is one member and it never changes: raft term 1.</summary>
    public ResponseHeader Header(long revision) => new() { ClusterId = ClusterId, MemberId = MemberId, Revision = revision, RaftTerm = 1 };

    private static ulong IdOf(string text) => BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text))) | 1;
}
