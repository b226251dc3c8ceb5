using System.CommandLine;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer;
using Switchboard.EtcdFront;
using Switchboard.Storage;

namespace Switchboard.Commands;

/// <summary><c>switchboard apiserver</c>: the Kubernetes API over the store, alone, so a cluster can span machines.</summary>
internal static class ApiServerCommand
{
    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var store = CommonOptions.Store();
        var apiServer = new ApiServerFlags();
        var etcdTls = new EtcdTlsFlags();
        var etcdFront = new EtcdFrontFlags();
        var command = new Command("apiserver", "Run the Kubernetes API server alone over the store") { dataDir, store };
        apiServer.AddTo(command);
        etcdTls.AddTo(command, store);
        etcdFront.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var directory = new DataDirectory(result.GetRequiredValue(dataDir));
            using var loggerFactory = Logging.CreateFactory();
            if (!directory.TryCreate(loggerFactory.CreateLogger(typeof(ApiServerCommand))))
            {
                return 1;
            }

            var options = apiServer.Read(result, directory);
            await using var kv = await KeyValueStoreFactory.OpenAsync(result.GetRequiredValue(store), directory.StoreFile, loggerFactory, etcdTls.Read(result), cancellationToken, options.CompactionInterval);
            var front = etcdFront.Read(result, result.GetRequiredValue(store), directory);
            return await ComponentHost.RunAsync(loggerFactory, services =>
            {
                services.AddApiServer(options, kv);
                if (front is not null)
                {
                    services.AddEtcdFront(front, kv);
                }
            });
        });
        return command;
    }
}
