namespace Switchboard.Storage.Tests.Sqlite;

internal static class Poll
{
    /// <summary>Waits for <paramref name="condition"/>, failing with <paramref name="awaited"/> after a generous deadline.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string awaited)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out awaiting {awaited}");
            }

            await Task.Delay(10);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string awaited) => UntilAsync(() => Task.FromResult(condition()), awaited);
}
