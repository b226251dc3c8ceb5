using Microsoft.Extensions.Logging;

namespace Switchboard.Commands;

internal static class Logging
{
    public static ILoggerFactory CreateFactory() => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Information)
        // ASP.NET Core logs every request at Information; a cluster's own log should say what Switchboard does.
        .AddFilter("Microsoft", LogLevel.Warning)
        .AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
        }));
}
