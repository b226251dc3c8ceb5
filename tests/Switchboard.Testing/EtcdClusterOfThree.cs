namespace Switchboard.Testing;

/// <summary>Three etcd members, to lose one and go on.</summary>
public sealed class EtcdClusterOfThree : EtcdCluster
{
    public EtcdClusterOfThree()
        : base(3)
    {
    }
}
