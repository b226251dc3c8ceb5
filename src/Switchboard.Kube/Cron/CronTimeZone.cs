namespace Switchboard.Kube.Cron;

/// <summary>
/// A CronJob's spec.timeZone: an IANA name from the machine's tz database (as Go's time.LoadLocation); without one the
/// controller's local zone, as kube-controller-manager's; an empty name is UTC, as Go's. "Local" is no explicit zone and is refused, as upstream does.
/// </summary>
public static class CronTimeZone
{
    public static bool TryFind(string? name, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Local;
        if (name is null)
        {
            return true;
        }

        if (name.Length == 0)
        {
            zone = TimeZoneInfo.Utc;
            return true;
        }

        if (name.Equals("Local", StringComparison.OrdinalIgnoreCase) || name.Contains("..", StringComparison.Ordinal) || name.StartsWith('/'))
        {
            return false;
        }

        return TimeZoneInfo.TryFindSystemTimeZoneById(name, out zone!);
    }
}
