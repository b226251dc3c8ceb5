using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Cli;

public sealed class SqliteKubectlTests(SqliteApiServer server) : KubectlTests<SqliteApiServer>(server);
