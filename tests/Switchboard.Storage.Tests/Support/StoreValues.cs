using System.Text;

namespace Switchboard.Storage.Tests.Support;

/// <summary>Text values and storage failures as the store tests write and expect them.</summary>
internal static class StoreValues
{
    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(byte[] value) => Encoding.UTF8.GetString(value);

    /// <summary>Runs <paramref name="operation"/> and asserts it fails with <paramref name="error"/>.</summary>
    public static async Task<StorageException> ExpectAsync(StorageError error, Func<Task> operation)
    {
        var failure = await Assert.ThrowsAsync<StorageException>(operation);
        Assert.Equal(error, failure.Error);
        return failure;
    }
}
