using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Behaviour;

public sealed class EtcdApiBehaviourTests(EtcdApiServer server) : ApiBehaviourTests<EtcdApiServer>(server);
