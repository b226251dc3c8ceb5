using Microsoft.Extensions.Logging;

namespace Switchboard.Node.Runtime;

/// <summary>Starts container instances through the node's monitor host, and stops them: SIGTERM to the group, the grace period, SIGKILL.</summary>
internal sealed partial class ContainerRuntime(MonitorHostClient monitors, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Starts <paramref name="spec"/> in <paramref name="instanceDirectory"/> and waits until the container runs (or has already ended).</summary>
    public async Task<ContainerInstance> StartAsync(string instanceDirectory, ContainerSpec spec, CancellationToken cancellationToken)
    {
        if (Directory.Exists(instanceDirectory))
        {
            Directory.Delete(instanceDirectory, recursive: true);
        }

        Directory.CreateDirectory(instanceDirectory);
        var files = new InstanceFiles(instanceDirectory);
        spec.Write(files.Spec);
        await monitors.HandOverAsync(instanceDirectory, cancellationToken);
        var deadline = time.GetUtcNow() + StartTimeout;
        var poll = new PollBackoff(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(20));
        while (true)
        {
            if (files.ReadPid() is { } started)
            {
                return new ContainerInstance(files, started.Pid, started.StartedAt);
            }

            if (files.ReadExit() is { } failed)
            {
                throw new InvalidOperationException(failed.Message ?? $"exit {failed.ExitCode}");
            }

            if (!monitors.HostAlive || time.GetUtcNow() > deadline)
            {
                throw new InvalidOperationException("container monitor failed: " + (File.Exists(files.MonitorLog) ? File.ReadAllText(files.MonitorLog).Trim() : monitors.HostLog()));
            }

            await Task.Delay(poll.Next(), time, cancellationToken);
        }
    }

    /// <summary>The instance in <paramref name="instanceDirectory"/> if its monitor started it (after an agent restart too).</summary>
    public static ContainerInstance? Adopt(string instanceDirectory)
    {
        var files = new InstanceFiles(instanceDirectory);
        return files.ReadPid() is { } started ? new ContainerInstance(files, started.Pid, started.StartedAt) : null;
    }

    /// <summary>Stops the instance: SIGTERM, then SIGKILL after <paramref name="grace"/> (at once when it is zero); returns its exit.</summary>
    public async Task<ExitRecord> StopAsync(ContainerInstance instance, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (instance.Files.ReadExit() is { } done)
        {
            return done;
        }

        LogStopping(logger, instance.Pid, grace.TotalSeconds);
        if (grace > TimeSpan.Zero)
        {
            Signals.KillGroup(instance.Pid, Signals.SigTerm);
            var deadline = time.GetUtcNow() + grace;
            while (time.GetUtcNow() < deadline)
            {
                if (instance.Files.ReadExit() is { } exited)
                {
                    return exited;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
            }
        }

        var giveUp = time.GetUtcNow() + TimeSpan.FromSeconds(2);
        while (true)
        {
            // The group may hold children that outlive the main process; they go too.
            bool signalled = Signals.KillGroup(instance.Pid, Signals.SigKill);
            if (instance.Files.ReadExit() is { } killed)
            {
                return killed;
            }

            if (!signalled && time.GetUtcNow() > giveUp)
            {
                // The monitor died with its container (killed from outside): nobody will write the exit.
                return new ExitRecord(137, time.GetUtcNow(), "ContainerStatusUnknown", "The container could not be located when the pod was terminated");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        }
    }

    [LoggerMessage(EventId = 5007, Level = LogLevel.Debug, Message = "Stopping container pid {Pid} with grace {Grace}s")]
    private static partial void LogStopping(ILogger logger, int pid, double grace);
}

/// <summary>One run of a container: its state files, its pid (also its process group) and start time.</summary>
internal sealed record ContainerInstance(InstanceFiles Files, int Pid, DateTimeOffset StartedAt);
