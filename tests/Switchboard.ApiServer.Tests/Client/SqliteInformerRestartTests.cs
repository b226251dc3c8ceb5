using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Client;

public sealed class SqliteInformerRestartTests(SqliteApiServer server) : InformerRestartTests<SqliteApiServer>(server);
