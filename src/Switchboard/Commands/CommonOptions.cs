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

    /// <summary>A duration flag as Kubernetes components take them: <c>40s</c>, <c>500ms</c>, <c>2m</c>.</summary>
    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description + " (a duration: 40s, 500ms, 2m)",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            (string number, double unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
                : text.EndsWith('s') ? (text[..^1], 1) : text.EndsWith('m') ? (text[..^1], 60) : (text, 0);
            if (unit > 0 && double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) && value > 0)
            {
                return TimeSpan.FromSeconds(value * unit);
            }

            result.AddError($"{name} must be a positive duration such as 40s, 500ms or 2m, not \"{text}\"");
            return default;
        },
    };
}
