using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Client;

public sealed class EtcdInformerRestartTests(EtcdApiServer server) : InformerRestartTests<EtcdApiServer>(server);
