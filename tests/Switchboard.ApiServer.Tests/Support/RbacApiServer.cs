namespace Switchboard.ApiServer.Tests.Support;

/// <summary>
/// The API server with a <c>--token-auth-file</c> of three users: alice, bob and carol (in group devs), none of them
/// bound to anything at first, so what each may do is only what a test binds.
/// </summary>
public sealed class RbacApiServer : SqliteApiServer
{
    public const string AliceToken = "alice-token-0123456789abcdef";
    public const string BobToken = "bob-token-0123456789abcdef";
    public const string CarolToken = "carol-token-0123456789abcdef";

    protected override ApiServerOptions Configure(ApiServerOptions options)
    {
        string file = Path.Combine(DataDirectory, "tokens.csv");
        File.WriteAllText(file, $"""
            {AliceToken},alice,1001
            {BobToken},bob,1002,"system:basic-user-group"
            {CarolToken},carol,1003,"devs,testers"

            """);
        return base.Configure(options) with { TokenAuthFile = file };
    }
}
