using System.Runtime.InteropServices;

namespace Switchboard.ProxyBench.Nftables;

/// <summary>Runs work on a new thread that has entered a named network namespace: its sockets live there.</summary>
internal static partial class NetnsThread
{
    private const int CloneNewNet = 0x40000000;

    /// <summary>Starts <paramref name="work"/> inside /run/netns/<paramref name="name"/>; the task ends with it.</summary>
    public static Task Run(string name, Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using (var handle = File.OpenHandle(Path.Combine("/run/netns", name)))
                {
                    if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    {
                        throw new IOException($"setns into {name} failed: errno {Marshal.GetLastPInvokeError()}");
                    }
                }

                work();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "netns " + name };
        thread.Start();
        return done.Task;
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
