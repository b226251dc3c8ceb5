using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>Shutting down an in-process API server together with the store it runs on.</summary>
internal static class ServerAndStore
{
    /// <summary>Stops the server before it closes the store under it; either may not have been started.</summary>
    public static async Task StopAsync(ComponentTestHost? host, IAsyncDisposable? store)
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }

        if (store is not null)
        {
            await store.DisposeAsync();
        }
    }
}
