using Switchboard.Storage.Tests.Etcd;

namespace Switchboard.ApiServer.Tests.Restart;

public sealed class EtcdCrashRestartTests(EtcdCluster etcd) : CrashRestartTests, IClassFixture<EtcdCluster>
{
    protected override string Store => etcd.Location.ToString();
}
