using System.Diagnostics;
using k8s;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;

namespace Switchboard.Commands;

/// <summary>
/// The nodes of <c>up --nodes N</c> after the first: each a <c>switchboard agent</c> child process (node and proxy),
/// so one can be killed alone as a machine that dies. Started once the API server serves, ready once every one of
/// their Nodes is Ready. An agent that exits is logged, never restarted (the node lifecycle controller handles the
/// node it leaves); stopping <c>up</c> kills the ones still running, whose pods stay for the next start to adopt.
/// </summary>
internal sealed partial class ChildAgents(IReadOnlyList<ChildAgents.Agent> agents, KubeClientSource client, ILogger<ChildAgents> logger) : Component(ComponentName)
{
    public const string ComponentName = "agents";

    private static readonly TimeSpan ReadyPoll = TimeSpan.FromMilliseconds(200);

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
            foreach (var (_, process, _) in running.Where(r => !r.Process.HasExited))
            {
                process.Kill();
            }

            await Task.WhenAll(running.Select(r => r.Exited));
            foreach (var (_, process, _) in running)
            {
                process.Dispose();
            }
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

    [LoggerMessage(EventId = 130, Level = LogLevel.Warning, Message = "Agent of node {Node} exited with code {ExitCode} (its log: {Log})")]
    private static partial void LogExited(ILogger logger, string node, int exitCode, string log);
}
