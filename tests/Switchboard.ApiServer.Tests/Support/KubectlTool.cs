using System.Diagnostics;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>The real kubectl on this machine, pointed at a server's kubeconfig, with a discovery cache of its own.</summary>
public sealed class KubectlTool
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(1);
    private readonly string _kubeconfig;
    private readonly string _cacheDirectory;

    public KubectlTool(string kubeconfig, string cacheDirectory)
    {
        _kubeconfig = kubeconfig;
        _cacheDirectory = cacheDirectory;
    }

    /// <summary>Runs kubectl to the end; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish within {Deadline}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs kubectl and fails the test unless it succeeds; returns its stdout.</summary>
    public async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.True(code == 0, $"kubectl {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    /// <summary>Starts a long-running kubectl (e.g. <c>get -w</c>) whose stdout lines are read as they come.</summary>
    public KubectlStream Start(params string[] args) => new(Process.Start(StartInfo(args))!);

    /// <summary>shared/examples/NAME: beside the clone at CI time (../shared), else /work/shared.</summary>
    public static string ExampleFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "examples", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.Combine("/work/shared/examples", name);
    }

    private ProcessStartInfo StartInfo(string[] args)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["KUBECONFIG"] = _kubeconfig;
        start.ArgumentList.Add("--cache-dir");
        start.ArgumentList.Add(_cacheDirectory);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
