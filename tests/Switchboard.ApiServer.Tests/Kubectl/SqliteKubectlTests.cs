using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Kubectl;

public sealed class SqliteKubectlTests(SqliteApiServer server) : KubectlTests<SqliteApiServer>(server);
