using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Behaviour;

public sealed class SqliteApiBehaviourTests(SqliteApiServer server) : ApiBehaviourTests<SqliteApiServer>(server);
