using Microsoft.Extensions.Logging;

namespace Switchboard.Commands;

internal static class Logging
{
    /// <param name="hold">While set, only errors reach the console: <c>up</c>'s progress display owns the terminal then.</param>
    public static ILoggerFactory CreateFactory(LogHold? hold = null) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter((_, _, level) => level >= (hold is { Holding: true } ? LogLevel.Error : LogLevel.Information))

        // ASP.NET Core logs every request at Information; a cluster's own log should say what Switchboard does.
        .AddFilter("Microsoft", LogLevel.Warning)

        // A component's failure reaches ComponentHost, which prints it as one line; the host's own report is a stack trace.
        .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None)

        // A component not yet ready is what /readyz reports, not an error.
        .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
        .AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
        }));
}

/// <summary>Holds the console's log lines below Error back while set (they are not queued: the display says the same).</summary>
internal sealed class LogHold
{
    private volatile bool _holding;

    public bool Holding
    {
        get => _holding;
        set => _holding = value;
    }
}
