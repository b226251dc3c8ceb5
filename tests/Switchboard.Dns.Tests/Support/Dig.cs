using System.Net;
using Switchboard.Testing;

namespace Switchboard.Dns.Tests.Support;

/// <summary>Runs the real <c>dig</c> against a server and returns what it printed.</summary>
internal static class Dig
{
    private const string Path = "/usr/bin/dig";

    public static async Task<string> RunAsync(IPEndPoint server, params string[] arguments)
    {
        ProcessResult result = await ChildProcess.RunAsync(Path, [$"@{server.Address}", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "+tries=1", "+time=5", .. arguments]);
        return result.EnsureSuccess("dig " + string.Join(' ', arguments)).Stdout + result.Stderr;
    }

    /// <summary>The answer lines of <c>+short</c> output.</summary>
    public static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Resource record lines of full output, split into fields (owner, TTL, class, type, data...).</summary>
    public static string[][] Records(string output) =>
        [.. Lines(output).Where(l => !l.StartsWith(';')).Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))];

    /// <summary>The flags of the reply header, e.g. <c>qr aa rd</c>.</summary>
    public static string[] Flags(string output)
    {
        string line = Lines(output).First(l => l.StartsWith(";; flags:", StringComparison.Ordinal));
        return line[";; flags:".Length..line.IndexOf(';', ";; flags:".Length)].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    public static string Status(string output)
    {
        string line = Lines(output).First(l => l.Contains("status: ", StringComparison.Ordinal));
        int start = line.IndexOf("status: ", StringComparison.Ordinal) + "status: ".Length;
        return line[start..line.IndexOf(',', start)];
    }
}
