using k8s.Models;

namespace Switchboard.Controllers.Endpoints;

/// <summary>
/// upstream's truncateEndpoints: an Endpoints object holds at most <see cref="MaxAddresses"/> addresses and is then
/// annotated <c>endpoints.kubernetes.io/over-capacity: truncated</c>. Not-ready addresses go first; if the ready ones
/// alone are too many, every not-ready one goes and each subset keeps its share of the ready ones (rounded up).
/// </summary>
internal static class EndpointsTruncation
{
    public const int MaxAddresses = 1000;
    public const string Annotation = "endpoints.kubernetes.io/over-capacity";
    public const string Truncated = "truncated";

    /// <summary>Truncates <paramref name="subsets"/> in place to <paramref name="max"/> addresses; whether it had to.</summary>
    public static bool Truncate(List<V1EndpointSubset> subsets, int max = MaxAddresses)
    {
        int ready = subsets.Sum(s => s.Addresses?.Count ?? 0);
        int notReady = subsets.Sum(s => s.NotReadyAddresses?.Count ?? 0);
        if (ready + notReady <= max)
        {
            return false;
        }

        bool truncateReady = ready > max;
        int room = truncateReady ? max : max - ready;
        int total = truncateReady ? ready : notReady;
        int left = room;
        foreach (var subset in subsets)
        {
            var list = truncateReady ? subset.Addresses : subset.NotReadyAddresses;
            int inSubset = list?.Count ?? 0;
            int keep = Math.Min((int)Math.Ceiling((double)inSubset / total * room), left);
            var kept = list?.Take(keep).ToList();
            if (truncateReady)
            {
                subset.Addresses = kept is { Count: > 0 } ? kept : null;
                subset.NotReadyAddresses = null;
            }
            else
            {
                subset.NotReadyAddresses = kept is { Count: > 0 } ? kept : null;
            }

            left -= kept?.Count ?? 0;
        }

        return true;
    }
}
