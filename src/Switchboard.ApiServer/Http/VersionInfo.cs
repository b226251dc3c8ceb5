using System.Text.Json.Nodes;

namespace Switchboard.ApiServer.Http;

/// <summary>/version: the Kubernetes version whose API this server follows (kubectl warns on a skew over one minor).</summary>
internal static class VersionInfo
{
    public const string Major = "1";
    public const string Minor = "32";
    public const string GitVersion = "v1.32.0-switchboard";

    public static JsonObject Document() => new()
    {
        ["major"] = Major,
        ["minor"] = Minor,
        ["gitVersion"] = GitVersion,
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-01-01T00:00:00Z",
        ["goVersion"] = "go1.23.0",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };
}
