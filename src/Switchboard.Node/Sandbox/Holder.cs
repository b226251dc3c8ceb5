namespace Switchboard.Node.Sandbox;

/// <summary>
/// The holder's script, run by <c>nsenter --net=&lt;pod ns&gt; unshare --mount --uts --propagation private sh -c</c>:
/// an overlay over / (the host's root read-only beneath, the pod's own upper layer on top) with /dev, /proc and a
/// /sys of the pod's network namespace, the pod's hosts/resolv.conf/hostname bound in, the hostname set; then it
/// reports ready and sleeps for the pod's lifetime. The holder keeps the host's view around the pod's root: each
/// container takes a mount namespace of its own from it, binds its volumes from the host's side and only then pivots
/// into the pod's root (<see cref="Runtime.ContainerSetup"/>).
/// </summary>
internal static class Holder
{
    public const string Script = """
        set -e
        root=$1 upper=$2 work=$3 etc=$4 name=$5 ready=$6
        mkdir -p "$root" "$upper" "$work"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$upper,workdir=$work" "$root"
        mount --rbind /dev "$root/dev"
        mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
        mount -t proc proc "$root/proc"
        mount -t sysfs sysfs "$root/sys"
        rm -f "$root/etc/hosts" "$root/etc/resolv.conf" "$root/etc/hostname"
        for f in hosts resolv.conf hostname; do
          : > "$root/etc/$f"
          mount --bind "$etc/$f" "$root/etc/$f"
        done
        echo "$name" > /proc/sys/kernel/hostname
        echo $$ > "$ready"
        exec sleep infinity
        """;
}
