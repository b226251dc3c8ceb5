namespace Switchboard.ApiServer.Tests.Restart;

public sealed class SqliteCrashRestartTests : CrashRestartTests
{
    protected override string Store => "sqlite";
}
