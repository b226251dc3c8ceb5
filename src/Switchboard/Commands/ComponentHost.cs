using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Hosting;

namespace Switchboard.Commands;

/// <summary>
/// Runs components in one .NET Generic Host until SIGINT/SIGTERM (the host's console lifetime) or until one fails:
/// a failure, at start or later, stops every component and ends the command with one line naming it and exit code 1.
/// </summary>
internal static partial class ComponentHost
{
    /// <param name="loggerFactory">The process's loggers.</param>
    /// <param name="addComponents">Adds the components, in start order.</param>
    /// <param name="watchStart">Runs beside the start, given the components in start order: how <c>up</c> shows their progress.</param>
    public static async Task<int> RunAsync(
        ILoggerFactory loggerFactory, Action<IServiceCollection> addComponents, Func<IReadOnlyList<Component>, CancellationToken, Task>? watchStart = null)
    {
        var logger = loggerFactory.CreateLogger(typeof(ComponentHost));
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.Configure<HostOptions>(options =>
        {
            options.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;

            // Components stop in their own time (watches end, listeners close); a deadline would cut that short.
            options.ShutdownTimeout = Timeout.InfiniteTimeSpan;
        });
        addComponents(builder.Services);
        builder.Services.AddHostedService(_ => new IdleMemoryTrimmer(loggerFactory.CreateLogger<IdleMemoryTrimmer>(), TimeProvider.System));
        using IHost host = builder.Build();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => LogStopping(logger));
        ComponentException? failure = null;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        Task watching = watchStart?.Invoke([.. host.Services.GetServices<IHostedService>().OfType<Component>()], stopping.Token) ?? Task.CompletedTask;
        try
        {
            await host.StartAsync();
            await host.WaitForShutdownAsync();
        }
        catch (Exception e) when (Failure(e) is { } failed)
        {
            // A start that failed leaves the components before it running: they stop now.
            failure = failed;
            await host.StopAsync();
        }
        finally
        {
            await stopping.CancelAsync();
            await watching;
        }

        failure ??= host.Services.GetServices<IHostedService>().OfType<Component>()
            .Select(c => c.ExecuteTask?.Exception is { } e ? Failure(e) : null)
            .FirstOrDefault(e => e is not null);
        if (failure is null)
        {
            return 0;
        }

        LogFailed(logger, failure.Message);
        return 1;
    }

    private static ComponentException? Failure(Exception e) => e switch
    {
        ComponentException failure => failure,
        AggregateException aggregate => aggregate.InnerExceptions.Select(Failure).FirstOrDefault(f => f is not null),
        _ => null,
    };

    [LoggerMessage(EventId = 110, Level = LogLevel.Error, Message = "{Failure}")]
    private static partial void LogFailed(ILogger logger, string failure);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information, Message = "stopping")]
    private static partial void LogStopping(ILogger logger);
}
