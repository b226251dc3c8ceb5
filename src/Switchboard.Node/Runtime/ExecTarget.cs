using System.Globalization;

namespace Switchboard.Node.Runtime;

/// <summary>
/// Where a command runs "in a container" (exec probes, lifecycle hooks, switchboard exec): the namespaces of its
/// process, as its user with its groups (what the runtime's exec takes from the container's process spec).
/// </summary>
public sealed record ExecTarget(int Pid, long? User, long? Group, IReadOnlyList<long> Groups)
{
    /// <summary>nsenter's arguments, then setpriv's when the container has a user or groups, up to the command.</summary>
    public IReadOnlyList<string> NsenterArgs()
    {
        var args = new List<string> { "-t", Pid.ToString(CultureInfo.InvariantCulture), "-n", "-m", "-u", "--" };
        args.AddRange(SetprivArgs(User, Group, Groups));
        return args;
    }

    /// <summary>setpriv's arguments (ending in <c>--</c>) for a user, group and supplementary groups; none when all are unset.</summary>
    internal static IReadOnlyList<string> SetprivArgs(long? user, long? group, IReadOnlyList<long> groups) =>
        user is null && group is null && groups.Count == 0 ? []
            : ["setpriv", $"--reuid={user ?? 0}", $"--regid={group ?? 0}",
                groups.Count > 0 ? "--groups=" + string.Join(',', groups.Select(g => g.ToString(CultureInfo.InvariantCulture))) : "--clear-groups", "--"];
}
