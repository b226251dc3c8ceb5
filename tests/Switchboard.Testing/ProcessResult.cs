namespace Switchboard.Testing;

/// <summary>How a child process ended and what it printed.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Fails the test with the output unless the process exited 0.</summary>
    public ProcessResult EnsureSuccess(string what)
    {
        Assert.True(ExitCode == 0, $"{what} exited {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}");
        return this;
    }
}
