namespace Switchboard.Testing;

/// <summary>Waits for a condition that an asynchronous system reaches eventually, failing with what was awaited.</summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public static Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        WaitAsync(() => Task.FromResult(condition()), what, timeout);

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }

                last = null;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                last = e;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {(timeout ?? DefaultTimeout).TotalSeconds}s waiting for: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
            }

            await Task.Delay(PollInterval);
        }
    }
}
