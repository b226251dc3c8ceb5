using Microsoft.Extensions.Logging;
using Switchboard.Storage.Etcd;
using Switchboard.Storage.Sqlite;

namespace Switchboard.Storage;

/// <summary>Opens the store a <see cref="StoreLocation"/> names.</summary>
public static class KeyValueStoreFactory
{
    /// <summary>
    /// Opens the embedded store in <paramref name="sqliteFile"/>, or connects to etcd (with <paramref name="etcdOptions"/>:
    /// TLS files…) and checks it answers; either compacts every <paramref name="compactionInterval"/> if given.
    /// </summary>
    public static async Task<IKeyValueStore> OpenAsync(
        StoreLocation location, string sqliteFile, ILoggerFactory? loggerFactory, EtcdStoreOptions? etcdOptions, CancellationToken cancellationToken, TimeSpan? compactionInterval = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!location.IsEtcd)
        {
            var sqliteOptions = compactionInterval is { } sqliteInterval ? new SqliteStoreOptions { CompactionInterval = sqliteInterval } : null;
            return SqliteKeyValueStore.Open(sqliteFile, sqliteOptions, loggerFactory: loggerFactory);
        }

        etcdOptions ??= new EtcdStoreOptions();
        if (compactionInterval is { } etcdInterval)
        {
            etcdOptions = etcdOptions with { CompactionInterval = etcdInterval };
        }

        var store = EtcdKeyValueStore.Connect(location, etcdOptions, loggerFactory: loggerFactory);
        try
        {
            // Fail at start-up, with the endpoints in the message, rather than on the first request.
            await store.GetRevisionAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }
}
