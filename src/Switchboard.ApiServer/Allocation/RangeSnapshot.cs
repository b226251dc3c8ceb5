using Switchboard.Storage;

namespace Switchboard.ApiServer.Allocation;

/// <summary>
/// A range's bitmap as read from the store, with the stored key it came from (null: never written) and how many slots
/// this process had taken before the read.
/// </summary>
internal sealed record RangeSnapshot(byte[] Bitmap, KeyValue? Kv, long Takes);
