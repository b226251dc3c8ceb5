namespace Switchboard.EndToEnd.Tests;

/// <summary>Tests that each get a fresh <c>switchboard up</c>, stopped and removed afterwards.</summary>
public abstract class SwitchboardUpTestBase : IAsyncLifetime
{
    private SwitchboardUp? _up;

    protected SwitchboardUp Up => _up ?? throw new InvalidOperationException("started in InitializeAsync");

    public async Task InitializeAsync() => _up = await SwitchboardUp.StartAsync();

    public async Task DisposeAsync()
    {
        if (_up is not null)
        {
            await _up.DisposeAsync();
        }
    }
}
