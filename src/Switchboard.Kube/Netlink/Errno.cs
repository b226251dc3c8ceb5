namespace Switchboard.Kube.Netlink;

/// <summary>Names of the errno values netlink requests come back with, so an error says what the kernel meant.</summary>
public static class Errno
{
    public static string Name(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        7 => "E2BIG",
        11 => "EAGAIN",
        12 => "ENOMEM",
        16 => "EBUSY",
        17 => "EEXIST",
        22 => "EINVAL",
        34 => "ERANGE",
        40 => "ELOOP",
        75 => "EOVERFLOW",
        85 => "ERESTART",
        90 => "EMSGSIZE",
        95 => "EOPNOTSUPP",
        105 => "ENOBUFS",
        _ => "errno " + errno,
    };
}
