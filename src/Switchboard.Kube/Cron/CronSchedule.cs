using System.Globalization;

namespace Switchboard.Kube.Cron;

/// <summary>
/// A CronJob's spec.schedule as the CronJob controller reads it (robfig/cron's standard parser): five fields (minute,
/// hour, day of month, month, day of week) of <c>*</c>, <c>?</c>, numbers, names (JAN–DEC, SUN–SAT), ranges
/// <c>a-b</c>, steps <c>/n</c> and lists, or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.
/// As cron, when both day fields are restricted a day matches either; when one starts with <c>*</c> both must match.
/// Times are wall-clock times of a time zone: a wall time skipped by a DST change never fires, a repeated one fires once.
/// </summary>
public sealed class CronSchedule
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly ulong _minutes;
    private readonly ulong _hours;
    private readonly ulong _days;
    private readonly ulong _months;
    private readonly ulong _weekdays;
    private readonly bool _daysStarred;
    private readonly bool _weekdaysStarred;

    private CronSchedule(ulong minutes, ulong hours, ulong days, ulong months, ulong weekdays, bool daysStarred, bool weekdaysStarred)
    {
        (_minutes, _hours, _days, _months, _weekdays, _daysStarred, _weekdaysStarred) = (minutes, hours, days, months, weekdays, daysStarred, weekdaysStarred);
    }

    /// <summary>Parses <paramref name="text"/>, or says why it is no schedule (the message robfig/cron gives, near enough).</summary>
    public static bool TryParse(string? text, out CronSchedule? schedule, out string error)
    {
        schedule = null;
        error = "";
        string spec = (text ?? "").Trim();
        if (spec.Length == 0)
        {
            error = "empty spec string";
            return false;
        }

        spec = spec switch
        {
            "@yearly" or "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" or "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            _ => spec,
        };
        if (spec.StartsWith('@'))
        {
            error = "unrecognized descriptor: " + spec;
            return false;
        }

        string[] fields = spec.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            error = $"expected exactly 5 fields, found {fields.Length}: {spec}";
            return false;
        }

        if (Field(fields[0], 0, 59, null, out ulong minutes, out _, ref error)
            && Field(fields[1], 0, 23, null, out ulong hours, out _, ref error)
            && Field(fields[2], 1, 31, null, out ulong days, out bool daysStarred, ref error)
            && Field(fields[3], 1, 12, MonthNames, out ulong months, out _, ref error)
            && Field(fields[4], 0, 6, DayNames, out ulong weekdays, out bool weekdaysStarred, ref error))
        {
            schedule = new CronSchedule(minutes, hours, days, months, weekdays, daysStarred, weekdaysStarred);
            return true;
        }

        return false;
    }

    /// <summary>The first time strictly after <paramref name="after"/> that the schedule fires in <paramref name="zone"/>, or null within five years none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        var t = new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, 0, DateTimeKind.Unspecified).AddMinutes(1);
        var limit = t.AddYears(5);
        while (t < limit)
        {
            if (!Has(_months, t.Month))
            {
                t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Unspecified).AddMonths(1);
                continue;
            }

            if (!DayMatches(t))
            {
                t = t.Date.AddDays(1);
                continue;
            }

            if (!Has(_hours, t.Hour))
            {
                t = t.Date.AddHours(t.Hour + 1);
                continue;
            }

            if (!Has(_minutes, t.Minute))
            {
                t = t.AddMinutes(1);
                continue;
            }

            if (zone.IsInvalidTime(t))
            {
                t = t.AddMinutes(1);
                continue;
            }

            // An ambiguous wall time (the hour repeated when clocks go back) fires at its first occurrence.
            var offset = zone.IsAmbiguousTime(t) ? zone.GetAmbiguousTimeOffsets(t).Max() : zone.GetUtcOffset(t);
            var at = new DateTimeOffset(t, offset);
            if (at > after)
            {
                return at;
            }

            t = t.AddMinutes(1);
        }

        return null;
    }

    private bool DayMatches(DateTime t)
    {
        bool day = Has(_days, t.Day);
        bool weekday = Has(_weekdays, (int)t.DayOfWeek);
        return _daysStarred || _weekdaysStarred ? day && weekday : day || weekday;
    }

    private static bool Has(ulong bits, int value) => (bits & (1UL << value)) != 0;

    private static bool Field(string field, int min, int max, string[]? names, out ulong bits, out bool starred, ref string error)
    {
        bits = 0;
        starred = false;
        foreach (string part in field.Split(','))
        {
            string[] rangeAndStep = part.Split('/');
            if (rangeAndStep.Length > 2)
            {
                error = "too many slashes: " + part;
                return false;
            }

            int start;
            int end;
            string range = rangeAndStep[0];
            bool star = range is "*" or "?";
            if (star)
            {
                (start, end) = (min, max);
            }
            else
            {
                string[] bounds = range.Split('-');
                if (bounds.Length > 2)
                {
                    error = "too many hyphens: " + range;
                    return false;
                }

                if (!Value(bounds[0], names, min, out start, ref error) || !Value(bounds[^1], names, min, out end, ref error))
                {
                    return false;
                }
            }

            int step = 1;
            if (rangeAndStep.Length == 2)
            {
                if (!int.TryParse(rangeAndStep[1], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step <= 0)
                {
                    error = "step of range should be a positive number: " + part;
                    return false;
                }

                if (!star && !range.Contains('-', StringComparison.Ordinal))
                {
                    end = max;
                }
            }

            if (start < min || end > max)
            {
                error = start < min ? $"beginning of range ({start}) below minimum ({min}): {part}" : $"end of range ({end}) above maximum ({max}): {part}";
                return false;
            }

            if (start > end)
            {
                error = $"beginning of range ({start}) beyond end of range ({end}): {part}";
                return false;
            }

            for (int v = start; v <= end; v += step)
            {
                bits |= 1UL << v;
            }

            starred |= star && step == 1;
        }

        return true;
    }

    private static bool Value(string text, string[]? names, int min, out int value, ref string error)
    {
        int named = names is null ? -1 : Array.FindIndex(names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
        if (named >= 0)
        {
            value = named + (min == 1 ? 1 : 0);
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        error = $"failed to parse int from {text}";
        return false;
    }
}
