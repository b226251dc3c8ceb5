using System.Globalization;
using k8s.Models;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// Who a container's processes are: runAsUser/runAsGroup (the container's securityContext wins over the pod's); without
/// runAsGroup, the user's primary group from /etc/passwd (the image's, which here is the host's), else 0, as a
/// runtime does; supplementary groups: that group, the pod's supplementalGroups and its fsGroup.
/// </summary>
internal sealed record RunAs(long? User, long? Group, IReadOnlyList<long> Groups)
{
    public static RunAs Of(V1Pod pod, V1Container container)
    {
        var podContext = pod.Spec.SecurityContext;
        long? user = container.SecurityContext?.RunAsUser ?? podContext?.RunAsUser;
        long? group = container.SecurityContext?.RunAsGroup ?? podContext?.RunAsGroup ?? (user is { } uid ? PrimaryGroup(uid) : null);
        var extra = (podContext?.SupplementalGroups ?? []).OfType<long>().ToList();
        if (podContext?.FsGroup is { } fsGroup)
        {
            extra.Add(fsGroup);
        }

        if (extra.Count > 0 && group is { } primary)
        {
            extra.Insert(0, primary);
        }

        IReadOnlyList<long> groups = [.. extra.Distinct()];
        return new RunAs(user, group, groups);
    }

    private static long PrimaryGroup(long uid)
    {
        string id = uid.ToString(CultureInfo.InvariantCulture);
        foreach (string line in File.Exists("/etc/passwd") ? File.ReadLines("/etc/passwd") : [])
        {
            string[] fields = line.Split(':');
            if (fields.Length > 3 && fields[2] == id && long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out long gid))
            {
                return gid;
            }
        }

        return 0;
    }
}
