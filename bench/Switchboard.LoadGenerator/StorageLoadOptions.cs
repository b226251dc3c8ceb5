using System.Globalization;
using Switchboard.Storage;

namespace Switchboard.LoadGenerator;

internal sealed record StorageLoadOptions(StoreLocation Store, string SqliteFile, int Writers, TimeSpan Duration, int ValueBytes, int WatchSamples)
{
    public static StorageLoadOptions Parse(ReadOnlySpan<string> args)
    {
        var store = StoreLocation.Sqlite;
        string sqliteFile = Path.Combine(Path.GetTempPath(), "switchboard-load.db");
        int writers = 16, seconds = 30, valueBytes = 1024, watchSamples = 1000;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--store": store = StoreLocation.Parse(value); break;
                case "--sqlite-file": sqliteFile = value; break;
                case "--writers": writers = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--value-bytes": valueBytes = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--watch-samples": watchSamples = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new StorageLoadOptions(store, sqliteFile, writers, TimeSpan.FromSeconds(seconds), valueBytes, watchSamples);
    }
}
