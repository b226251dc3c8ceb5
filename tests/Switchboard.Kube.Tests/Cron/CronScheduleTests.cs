using Switchboard.Kube.Cron;

namespace Switchboard.Kube.Tests.Cron;

public sealed class CronScheduleTests
{
    private static readonly TimeZoneInfo Utc = TimeZoneInfo.Utc;

    private static CronSchedule Parse(string text)
    {
        Assert.True(CronSchedule.TryParse(text, out var schedule, out string error), error);
        return schedule!;
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("*/15 * * * *", "2026-03-02T10:07:00Z", "2026-03-02T10:15:00Z")]
    [InlineData("*/15 * * * *", "2026-03-02T10:15:00Z", "2026-03-02T10:30:00Z")]
    [InlineData("@hourly", "2026-03-02T10:07:30Z", "2026-03-02T11:00:00Z")]
    [InlineData("@daily", "2026-03-02T10:07:00Z", "2026-03-03T00:00:00Z")]
    [InlineData("@weekly", "2026-03-02T10:07:00Z", "2026-03-08T00:00:00Z")] // 2026-03-08 is a Sunday
    [InlineData("@monthly", "2026-03-02T10:07:00Z", "2026-04-01T00:00:00Z")]
    [InlineData("@yearly", "2026-03-02T10:07:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("30 9 * JAN-MAR MON-FRI", "2026-03-06T10:00:00Z", "2026-03-09T09:30:00Z")] // Friday after 9:30 → Monday
    [InlineData("0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z")] // April has no 31st
    [InlineData("0 12 13 * 5", "2026-03-02T00:00:00Z", "2026-03-06T12:00:00Z")] // day 13 OR Friday: Friday the 6th first
    [InlineData("0 12 * * 5", "2026-03-02T00:00:00Z", "2026-03-06T12:00:00Z")]
    [InlineData("0 12 */2 * 5", "2026-03-02T00:00:00Z", "2026-03-03T12:00:00Z")] // a step is a restriction: 3rd (odd) OR Friday
    [InlineData("5-10/5,20 4 * * *", "2026-03-02T04:06:00Z", "2026-03-02T04:10:00Z")]
    [InlineData("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    public void Next_follows_the_standard_cron_fields(string schedule, string after, string expected) =>
        Assert.Equal(At(expected), Parse(schedule).Next(At(after), Utc));

    [Fact]
    public void A_time_zone_moves_the_wall_clock_and_a_skipped_hour_never_fires()
    {
        Assert.True(CronTimeZone.TryFind("America/New_York", out var newYork));

        // 09:00 in New York is 14:00 UTC in winter, 13:00 UTC in summer.
        Assert.Equal(At("2026-03-06T09:00:00-05:00"), Parse("0 9 * * *").Next(At("2026-03-06T00:00:00Z"), newYork));
        Assert.Equal(At("2026-03-09T09:00:00-04:00"), Parse("0 9 * * *").Next(At("2026-03-08T14:00:00Z"), newYork));

        // On 2026-03-08 clocks jump from 02:00 to 03:00: 02:30 does not exist that day, so the next 02:30 is the 9th.
        var next = Parse("30 2 * * *").Next(At("2026-03-08T00:00:00-05:00"), newYork);
        Assert.Equal(At("2026-03-09T02:30:00-04:00"), next);

        // On 2026-11-01 01:30 happens twice; it fires once, at the first (daylight) one.
        var fall = Parse("30 1 * * *");
        var first = fall.Next(At("2026-11-01T00:00:00-04:00"), newYork);
        Assert.Equal(At("2026-11-01T01:30:00-04:00"), first);
        Assert.Equal(At("2026-11-02T01:30:00-05:00"), fall.Next(first!.Value, newYork));
    }

    [Theory]
    [InlineData("", "empty spec string")]
    [InlineData("* * * *", "expected exactly 5 fields, found 4")]
    [InlineData("60 * * * *", "end of range (60) above maximum (59)")]
    [InlineData("* * 0 * *", "beginning of range (0) below minimum (1)")]
    [InlineData("*/0 * * * *", "step of range should be a positive number")]
    [InlineData("5-1 * * * *", "beginning of range (5) beyond end of range (1)")]
    [InlineData("* * * FOO *", "failed to parse int from FOO")]
    [InlineData("@every 5m", "unrecognized descriptor")]
    public void Bad_schedules_say_what_is_wrong(string schedule, string message)
    {
        Assert.False(CronSchedule.TryParse(schedule, out var parsed, out string error));
        Assert.Null(parsed);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Local")]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("../../etc/passwd")]
    public void Time_zones_are_explicit_IANA_names(string name) => Assert.False(CronTimeZone.TryFind(name, out _));
}
