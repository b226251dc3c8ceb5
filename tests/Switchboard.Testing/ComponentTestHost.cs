using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Switchboard.Testing;

/// <summary>Components in a Generic Host of their own, added as a command adds them (<c>AddApiServer</c>, …), started and stopped by a test.</summary>
public sealed class ComponentTestHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ComponentTestHost(IHost host) => _host = host;

    /// <summary>Builds the host and starts every component; <paramref name="time"/> and <paramref name="logs"/> replace the system clock and silence.</summary>
    public static async Task<ComponentTestHost> StartAsync(Action<IServiceCollection> addComponents, TimeProvider? time = null, ILoggerFactory? logs = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        if (logs is not null)
        {
            builder.Services.AddSingleton(logs);
        }

        addComponents(builder.Services);
        IHost host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new ComponentTestHost(host);
    }

    /// <summary>A component (or any service) of the host.</summary>
    public T Get<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
