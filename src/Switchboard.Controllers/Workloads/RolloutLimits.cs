using k8s.Models;

namespace Switchboard.Controllers.Workloads;

/// <summary>maxSurge and maxUnavailable as pod counts (percentages: surge rounds up, unavailable down; never both zero).</summary>
internal static class RolloutLimits
{
    public static (int MaxSurge, int MaxUnavailable) Of(V1Deployment d)
    {
        int desired = d.Spec.Replicas ?? 1;
        if (d.Spec.Strategy?.Type == "Recreate")
        {
            return (0, 0);
        }

        var rolling = d.Spec.Strategy?.RollingUpdate;
        int surge = Resolve(rolling?.MaxSurge, desired, roundUp: true, fallback: "25%");
        int unavailable = Resolve(rolling?.MaxUnavailable, desired, roundUp: false, fallback: "25%");
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }

        return (surge, Math.Min(unavailable, desired));
    }

    private static int Resolve(IntOrString? value, int total, bool roundUp, string fallback)
    {
        string text = value?.Value ?? fallback;
        if (text.EndsWith('%'))
        {
            double percent = double.Parse(text[..^1], System.Globalization.CultureInfo.InvariantCulture);
            double scaled = percent * total / 100.0;
            return (int)(roundUp ? Math.Ceiling(scaled) : Math.Floor(scaled));
        }

        return int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }
}
