using System.Diagnostics;
using System.Net;

namespace Switchboard.Dns.Tests.Support;

/// <summary>Runs the real <c>dig</c> against a server and returns what it printed.</summary>
internal static class Dig
{
    private const string Path = "/usr/bin/dig";

    public static async Task<string> RunAsync(IPEndPoint server, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[$"@{server.Address}", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "+tries=1", "+time=5", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dig did not start");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task<string> output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        Task<string> error = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"dig {string.Join(' ', arguments)} did not finish within 30 s");
        }

        string text = await output + await error;
        Assert.True(process.ExitCode == 0, $"dig {string.Join(' ', arguments)} exited {process.ExitCode}: {text}");
        return text;
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
