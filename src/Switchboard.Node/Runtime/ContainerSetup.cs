namespace Switchboard.Node.Runtime;

/// <summary>
/// What runs between the monitor and the container's program, inside a mount namespace of the container's own (a copy of
/// the pod holder's, which sees the host around the pod's root): join the container's cgroups (so its first allocation
/// already counts), pivot into the pod's root keeping the host at a private
/// path, bind each volume from there at its mount path (resolved inside the pod's root, so the pod's symlinks apply),
/// read-only if asked, tell the monitor (a file on the host's side), drop the host, create and enter the working
/// directory, exec. Volume mounts of one container are
/// never seen by another, as with a container runtime.
/// </summary>
internal static class ContainerSetup
{
    /// <summary>Arguments: the cgroup directories (space-separated, maybe none), root, working dir, the host file to create once set up, then (host source, target, rw|ro) triples, <c>--</c>, the program's argv.</summary>
    public const string Script = """
        set -e
        cgroups=$1 root=$2 wd=$3 done=$4 path=$PATH
        shift 4
        for d in $cgroups; do echo $$ > "$d/cgroup.procs"; done
        PATH=/usr/sbin:/usr/bin:/sbin:/bin
        cd "$root"
        host=.sb-host-$$
        mkdir "$host"
        pivot_root . "$host"
        cd /
        while [ "$1" != -- ]; do
          src=/$host$1 dst=$2 mode=$3
          shift 3
          if [ -d "$src" ]; then
            mkdir -p "$dst"
          else
            mkdir -p "$(dirname "$dst")"
            [ -e "$dst" ] || : > "$dst"
          fi
          mount --rbind "$src" "$dst"
          if [ "$mode" = ro ]; then mount -o remount,bind,ro "$dst"; fi
        done
        shift
        : > "/$host$done"
        umount -l "/$host"
        rmdir "/$host"
        mkdir -p "$wd"
        cd "$wd"
        PATH=$path
        exec "$@"
        """;
}
