namespace Switchboard.Node.Sandbox;

/// <summary>mount(2)'s MS_ flags that the sandbox and the container setup pass (linux/mount.h).</summary>
internal static class MountFlags
{
    public const ulong ReadOnly = 1;
    public const ulong NoSuid = 2;
    public const ulong NoDev = 4;
    public const ulong NoExec = 8;
    public const ulong Remount = 32;
    public const ulong Bind = 4096;
    public const ulong Rec = 16384;
    public const ulong Private = 1 << 18;
    public const ulong Shared = 1 << 20;
}
