using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Client;

public sealed class SqliteClientTests(SqliteApiServer server) : ClientTests<SqliteApiServer>(server);
