using System.Globalization;
using Switchboard.Storage;

namespace Switchboard.LoadGenerator;

internal sealed record EtcdFrontLoadOptions(StoreLocation Store, int Clients, TimeSpan Duration, int ValueBytes, int RangeKeys, int WatchSamples)
{
    public static EtcdFrontLoadOptions Parse(ReadOnlySpan<string> args)
    {
        StoreLocation? store = null;
        int clients = 1, seconds = 10, valueBytes = 1024, rangeKeys = 0, watchSamples = 0;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--store": store = StoreLocation.Parse(value); break;
                case "--clients": clients = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--value-bytes": valueBytes = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--range-keys": rangeKeys = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--watch-samples": watchSamples = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new EtcdFrontLoadOptions(store ?? throw new ArgumentException("--store etcd://HOST:PORT is required"), clients, TimeSpan.FromSeconds(seconds), valueBytes, rangeKeys, watchSamples);
    }
}
