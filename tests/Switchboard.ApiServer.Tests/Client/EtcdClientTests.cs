using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Client;

public sealed class EtcdClientTests(EtcdApiServer server) : ClientTests<EtcdApiServer>(server);
