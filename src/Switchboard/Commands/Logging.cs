using Microsoft.Extensions.Logging;

namespace Switchboard.Commands;

internal static class Logging
{
    public static ILoggerFactory CreateFactory() => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Information)
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
