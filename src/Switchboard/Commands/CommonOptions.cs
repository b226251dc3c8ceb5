using System.CommandLine;
using Switchboard.Storage;

namespace Switchboard.Commands;

/// <summary>The options several commands share, with the defaults of ARCHITECTURE.md.</summary>
internal static class CommonOptions
{
    public static Option<DirectoryInfo> DataDir() => new("--data-dir")
    {
        Description = "Directory holding the embedded store, the CA and the kubeconfig",
        DefaultValueFactory = _ => new DirectoryInfo("/var/lib/switchboard"),
    };

    public static Option<FileInfo> Kubeconfig() => new("--kubeconfig")
    {
        Description = "kubeconfig of the API server to work against",
        Required = true,
    };

    public static Option<StoreLocation> Store() => new("--store")
    {
        Description = "Where cluster state lives: sqlite (embedded, in the data dir) or etcd://HOST:PORT[,HOST:PORT…]",
        DefaultValueFactory = _ => StoreLocation.Sqlite,
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            try
            {
                return StoreLocation.Parse(text);
            }
            catch (FormatException e)
            {
                result.AddError(e.Message);
                return StoreLocation.Sqlite;
            }
        },
    };
}
