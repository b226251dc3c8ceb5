using System.CommandLine;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer;
using Switchboard.Controllers;
using Switchboard.Storage;

namespace Switchboard.Commands;

/// <summary><c>switchboard up</c>: everything in one process, in the foreground, until SIGINT or SIGTERM.</summary>
internal static partial class UpCommand
{
    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var store = CommonOptions.Store();
        var apiServer = new ApiServerFlags();
        var command = new Command("up", "Run Switchboard in one process, in the foreground; SIGINT/SIGTERM stops it cleanly")
        {
            dataDir,
            store,
        };
        apiServer.AddTo(command);
        command.SetAction((result, cancellationToken) =>
        {
            var directory = new DataDirectory(result.GetRequiredValue(dataDir));
            return RunAsync(directory, result.GetRequiredValue(store), apiServer.Read(result, directory), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(DataDirectory dataDir, StoreLocation storeLocation, ApiServerOptions apiServerOptions, CancellationToken cancellationToken)
    {
        using var loggerFactory = Logging.CreateFactory();
        var logger = loggerFactory.CreateLogger("switchboard");
        dataDir.Create();
        if (RunningInstance.Find(dataDir) is { } pid)
        {
            LogAlreadyRunning(logger, dataDir.Path, pid);
            return 1;
        }

        using var stop = new StopSignal(cancellationToken);
        await using var kv = await KeyValueStoreFactory.OpenAsync(storeLocation, dataDir.StoreFile, loggerFactory, stop.Token);
        var readiness = apiServerOptions.Readiness;
        readiness.Require("controllers");
        await using var api = await ApiServerHost.StartAsync(apiServerOptions, kv, loggerFactory, cancellationToken: stop.Token);

        // The components talk to the API server like any client would (ARCHITECTURE rule 1), only in-process.
        var controllers = ControllerManager.RunAsync(
            api.KubeconfigPath, new ControllerOptions { OnSynced = () => readiness.MarkReady("controllers") }, loggerFactory, stop.Token);

        RunningInstance.Record(dataDir);
        try
        {
            await Task.WhenAny(stop.WaitAsync(), controllers);
            LogStopping(logger);
            await stop.CancelAsync();
            await IgnoreCancellation(controllers);
        }
        finally
        {
            RunningInstance.Forget(dataDir);
        }

        return 0;
    }

    private static async Task IgnoreCancellation(Task component)
    {
        try
        {
            await component;
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "switchboard is already running in {DataDir} (pid {Pid}); stop it with `switchboard down`")]
    private static partial void LogAlreadyRunning(ILogger logger, string dataDir, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping")]
    private static partial void LogStopping(ILogger logger);
}
