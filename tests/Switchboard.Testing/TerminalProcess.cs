using System.Diagnostics;
using System.Text;

namespace Switchboard.Testing;

/// <summary>
/// A program run on a real pseudo-terminal of its own (util-linux <c>script</c>, which also passes the exit status
/// back), sized with <c>stty</c> first: a test types into it and reads its screen, as a user at a console. Killed (by
/// pid, with its children) on dispose.
/// </summary>
public sealed class TerminalProcess : IDisposable
{
    private readonly Process _process;

    private TerminalProcess(Process process)
    {
        _process = process;
        Screen = new TerminalScreen(process.StandardOutput.BaseStream);
    }

    public TerminalScreen Screen { get; }

    /// <summary>Starts <paramref name="program"/> on a terminal of <paramref name="columns"/> × <paramref name="rows"/>.</summary>
    public static TerminalProcess Start(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, int columns = 120, int rows = 40)
    {
        string command = $"stty cols {columns} rows {rows}; exec " + string.Join(' ', new[] { program }.Concat(args).Select(Quote));
        var start = new ProcessStartInfo("script")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["--quiet", "--flush", "--return", "--command", command, "/dev/null"])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SHELL"] = "/bin/sh";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return new TerminalProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start script"));
    }

    /// <summary>Types <paramref name="text"/> (a line needs its "\n"; "\u0003" is Ctrl-C).</summary>
    public async Task TypeAsync(string text)
    {
        await _process.StandardInput.BaseStream.WriteAsync(Encoding.UTF8.GetBytes(text));
        await _process.StandardInput.BaseStream.FlushAsync();
    }

    /// <summary>Waits for the program to end; its exit status.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the program did not end within {limit.TotalSeconds}s; its screen:\n{Screen.Text}");
        }

        await Screen.Ended.WaitAsync(TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    private static string Quote(string arg) => "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
