using System.Diagnostics;
using k8s;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Node;

namespace Switchboard.Commands;

/// <summary>
/// The nodes of <c>up --nodes N</c> after the first: each a <c>switchboard agent</c> child process (node and proxy),
/// so one can be killed alone as a machine that dies. Started once the API server serves, ready once every one of
/// their Nodes is Ready. An agent that exits is logged, never restarted (the node lifecycle controller handles the
/// node it leaves); stopping <c>up</c> stops the ones still running with SIGTERM, as kubelet is stopped (they leave
/// their pods for the next start to adopt), and SIGKILLs any still there after <see cref="StopGrace"/>.
/// </summary>
internal sealed partial class ChildAgents(IReadOnlyList<ChildAgents.Agent> agents, KubeClientSource client, ILogger<ChildAgents> logger) : Component(ComponentName)
{
    public const string ComponentName = "agents";

    private static readonly TimeSpan ReadyPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a stopping agent gets to end its watches and listeners before it is killed.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        var running = new List<(Agent Agent, Process Process, Task Exited)>();
        try
        {
            foreach (var agent in agents)
            {
                var process = Start(agent);
                running.Add((agent, process, WatchAsync(agent, process, stoppingToken)));
            }

            await WaitForNodesAsync(stoppingToken);
            MarkReady();
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await StopAsync(running);
            foreach (var (_, process, _) in running)
            {
                process.Dispose();
            }
        }
    }

    /// <summary>SIGTERM to every agent still running, then SIGKILL to those not gone within <see cref="StopGrace"/>.</summary>
    private async Task StopAsync(List<(Agent Agent, Process Process, Task Exited)> running)
    {
        var signalled = running.Where(r => !r.Process.HasExited && AgentProcess.Terminate(r.Process.Id)).ToList();
        var exited = Task.WhenAll(running.Select(r => r.Exited));
        await Task.WhenAny(exited, Task.Delay(StopGrace));
        var killed = running.Where(r => !r.Process.HasExited).ToList();
        foreach (var (agent, process, _) in killed)
        {
            LogKilled(logger, agent.Name, StopGrace.TotalSeconds);
            process.Kill();
        }

        await exited;
        foreach (var (agent, process, _) in signalled.Except(killed))
        {
            LogStopped(logger, agent.Name, process.ExitCode);
        }
    }

    private static Process Start(Agent agent)
    {
        var start = new ProcessStartInfo(agent.Command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string arg in agent.Command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {agent.Command[0]}");
        return process;
    }

    /// <summary>Copies the agent's output to its log file until it exits, then says how it ended.</summary>
    private async Task WatchAsync(Agent agent, Process process, CancellationToken stopping)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(agent.LogFile)!);
        await using (var log = new FileStream(agent.LogFile, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            await Task.WhenAll(process.StandardOutput.BaseStream.CopyToAsync(log), process.StandardError.BaseStream.CopyToAsync(log));
        }

        await process.WaitForExitAsync();
        if (!stopping.IsCancellationRequested)
        {
            LogExited(logger, agent.Name, process.ExitCode, agent.LogFile);
        }
    }

    private async Task WaitForNodesAsync(CancellationToken cancellationToken)
    {
        var names = agents.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        while (true)
        {
            var nodes = await client.Client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken);
            int ready = nodes.Items.Count(n => names.Contains(n.Metadata.Name) && n.Status?.Conditions?.Any(c => c is { Type: "Ready", Status: "True" }) == true);
            if (ready == names.Count)
            {
                return;
            }

            await Task.Delay(ReadyPoll, cancellationToken);
        }
    }

    /// <summary>One child node: its name, the command that runs its agent, and where its output goes.</summary>
    public sealed record Agent(string Name, IReadOnlyList<string> Command, string LogFile);

    [LoggerMessage(EventId = 131, Level = LogLevel.Information, Message = "Agent of node {Node} stopped on SIGTERM with exit code {ExitCode}")]
    private static partial void LogStopped(ILogger logger, string node, int exitCode);

    [LoggerMessage(EventId = 132, Level = LogLevel.Warning, Message = "Agent of node {Node} still running {Grace} s after SIGTERM: killed")]
    private static partial void LogKilled(ILogger logger, string node, double grace);

    [LoggerMessage(EventId = 130, Level = LogLevel.Warning, Message = "Agent of node {Node} exited with code {ExitCode} (its log: {Log})")]
    private static partial void LogExited(ILogger logger, string node, int exitCode, string log);
}
