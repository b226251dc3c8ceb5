using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Cli;

public sealed class EtcdKubectlTests(EtcdApiServer server) : KubectlTests<EtcdApiServer>(server);
