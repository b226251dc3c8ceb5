using System.Text;

namespace Switchboard.Storage;

/// <summary>etcd's limits on keys and values, enforced by every store before anything is written.</summary>
public static class StorageLimits
{
    /// <summary>The largest key in bytes (UTF-8), 1.5 KiB.</summary>
    public const int MaxKeyBytes = 1536;

    /// <summary>The largest value in bytes, 1.5 MiB (etcd's default --max-request-bytes).</summary>
    public const int MaxValueBytes = 1536 * 1024;

    public static void ValidateKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
        {
            throw new StorageException(StorageError.InvalidArgument, "key is empty", key);
        }

        int bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes > MaxKeyBytes)
        {
            throw new StorageException(StorageError.InvalidArgument, $"key is {bytes} bytes, over the limit of {MaxKeyBytes}", key);
        }
    }

    public static void ValidateValue(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > MaxValueBytes)
        {
            throw new StorageException(StorageError.InvalidArgument, $"value of {value.Length} bytes is over the limit of {MaxValueBytes}", key);
        }
    }

    public static void ValidateTimeToLive(string key, TimeSpan? timeToLive)
    {
        if (timeToLive is { } ttl && ttl < TimeSpan.FromSeconds(1))
        {
            throw new StorageException(StorageError.InvalidArgument, $"time to live {ttl} is under one second", key);
        }
    }
}
