using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>A kubectl child process that runs until killed (by its PID); its stdout is read line by line.</summary>
public sealed class KubectlStream : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _seen = [];

    private KubectlStream(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        _ = PumpAsync();
    }

    public static KubectlStream Start(string kubeconfig, string cacheDirectory, string[] args)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["KUBECONFIG"] = kubeconfig;
        foreach (string arg in (string[])["--cache-dir", cacheDirectory, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        return new KubectlStream(Process.Start(start) ?? throw new InvalidOperationException("could not start kubectl"));
    }

    /// <summary>Waits for the next stdout line that matches; fails with everything read so far after the deadline.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string awaited, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(20));
        try
        {
            while (true)
            {
                string line = await _lines.Reader.ReadAsync(timeout.Token);
                _seen.Add(line);
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            string stderr;
            lock (_stderr)
            {
                stderr = _stderr.ToString();
            }

            throw new TimeoutException($"kubectl never printed {awaited}; stdout so far:\n{string.Join('\n', _seen)}\nstderr:\n{stderr}");
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private async Task PumpAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            await _lines.Writer.WriteAsync(line);
        }

        _lines.Writer.Complete();
    }
}
