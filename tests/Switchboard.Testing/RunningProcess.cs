using System.Diagnostics;
using System.Globalization;

namespace Switchboard.Testing;

/// <summary>
/// A program a test starts and stops itself (a server, a watch, a writer to crash): every line it prints is kept, to
/// wait for the next that matches and to show in a failure, and it is killed by PID on dispose. For a program that
/// runs to completion, see <see cref="ChildProcess.RunAsync"/>.
/// </summary>
public sealed class RunningProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _name;
    private readonly List<string> _output = [];
    private readonly List<string> _standardOutput = [];
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private int _looked;
    private TaskCompletionSource? _printed;

    private RunningProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything it printed so far, standard output and error interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>The lines it printed to standard output so far; all of them once it has been killed.</summary>
    public IReadOnlyList<string> StandardOutputLines
    {
        get
        {
            lock (_output)
            {
                return [.. _standardOutput];
            }
        }
    }

    public static RunningProcess Start(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var running = new RunningProcess(new Process { StartInfo = start }, Path.GetFileName(program) + " " + string.Join(' ', start.ArgumentList));
        running._process.OutputDataReceived += (_, e) => running.Record(e.Data, standardOutput: true);
        running._process.ErrorDataReceived += (_, e) => running.Record(e.Data, standardOutput: false);
        if (!running._process.Start())
        {
            throw new InvalidOperationException($"could not start {running._name}");
        }

        running._process.BeginOutputReadLine();
        running._process.BeginErrorReadLine();
        return running;
    }

    /// <summary>
    /// Waits for the next line it prints (standard output or error) that matches, later than the one the last wait
    /// returned; fails with the output if the process exits first or the time runs out.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        // Completes once the process has exited and its output has been read to the end.
        Task exited = _process.WaitForExitAsync(deadline.Token);
        while (true)
        {
            // Read before the lines are: once it has exited, every line it printed is in them.
            bool over = exited.IsCompleted;
            Task printed;
            lock (_output)
            {
                while (_looked < _output.Count)
                {
                    string line = _output[_looked++];
                    if (match(line))
                    {
                        return line;
                    }
                }

                printed = (_printed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            if (over)
            {
                Assert.Fail(exited.IsCanceled
                    ? $"{_name} did not print {what} within {(timeout ?? DefaultTimeout).TotalSeconds}s:\n{Output}"
                    : $"{_name} exited ({_process.ExitCode}) before it printed {what}:\n{Output}");
            }

            await Task.WhenAny(printed, exited);
        }
    }

    /// <summary>Waits for it to exit on its own, failing with its output if it has not within <paramref name="timeout"/>; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{_name} did not exit within {timeout.TotalSeconds}s:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>SIGKILL, as a crash: none of its shutdown code runs. Returns once it is gone and its output read.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
    }

    /// <summary>SIGTERM, the polite stop: the program may say goodbye before it exits. Returns once it is gone.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("/bin/kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }

        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Record(string? line, bool standardOutput)
    {
        if (line is null)
        {
            return;
        }

        TaskCompletionSource? printed;
        lock (_output)
        {
            _output.Add(line);
            if (standardOutput)
            {
                _standardOutput.Add(line);
            }

            (printed, _printed) = (_printed, null);
        }

        printed?.TrySetResult();
    }
}
