using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Kubectl;

public sealed class EtcdKubectlTests(EtcdApiServer server) : KubectlTests<EtcdApiServer>(server);
