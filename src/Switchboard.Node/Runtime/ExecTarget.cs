using System.Globalization;

namespace Switchboard.Node.Runtime;

/// <summary>Where a command runs "in a container" (exec probes, lifecycle hooks, switchboard exec): the namespaces of its process, as its user.</summary>
public sealed record ExecTarget(int Pid, long? User, long? Group)
{
    /// <summary>nsenter's arguments up to and including <c>--</c>.</summary>
    public IReadOnlyList<string> NsenterArgs()
    {
        var args = new List<string> { "-t", Pid.ToString(CultureInfo.InvariantCulture), "-n", "-m", "-u" };
        if (User is { } user)
        {
            args.AddRange(["-S", user.ToString(CultureInfo.InvariantCulture)]);
        }

        if (Group is { } group)
        {
            args.AddRange(["-G", group.ToString(CultureInfo.InvariantCulture)]);
        }

        args.Add("--");
        return args;
    }
}
