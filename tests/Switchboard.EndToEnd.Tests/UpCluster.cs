namespace Switchboard.EndToEnd.Tests;

/// <summary>One <c>switchboard up</c> shared by the tests of a class (a class fixture), stopped and removed after them.</summary>
public sealed class UpCluster : IAsyncLifetime
{
    private SwitchboardUp? _up;

    public SwitchboardUp Up => _up ?? throw new InvalidOperationException("started in InitializeAsync");

    public async Task InitializeAsync() => _up = await SwitchboardUp.StartAsync();

    public async Task DisposeAsync()
    {
        if (_up is not null)
        {
            await _up.DisposeAsync();
        }
    }
}
