using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Restart;

public sealed class EtcdCrashRestartTests(EtcdCluster etcd) : CrashRestartTests, IClassFixture<EtcdCluster>
{
    protected override string Store => etcd.Location.ToString();
}
