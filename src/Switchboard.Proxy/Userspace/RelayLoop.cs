using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// A thread of our own waiting in epoll_wait(2) for the sockets of the TCP connections it relays, one per processor
/// as haproxy runs one per thread: a readable socket is read and its bytes written on to the other side right there,
/// without the thread-pool hop per read that .NET's socket engine makes, which cost the proxy a quarter of haproxy's
/// throughput. Sockets are registered edge-triggered, once, for both directions. Everything touching a loop's sockets
/// runs on its thread; other threads hand it work through <see cref="Post"/>, so no descriptor is ever closed under a
/// call that uses it. The loops live as long as the process, as .NET's own socket engine does.
/// </summary>
internal sealed unsafe class RelayLoop
{
    /// <summary>How much one receive takes: a whole socket buffer's worth for bulk transfers.</summary>
    public const int ScratchSize = 64 * 1024;

    private const int MaxEvents = 256;
    private const ulong WakeData = ulong.MaxValue;

    private static readonly RelayLoop[] Loops = [.. Enumerable.Range(0, Environment.ProcessorCount).Select(i => new RelayLoop(i))];
    private static uint _next;

    private readonly int _epoll = SocketCalls.EpollCreate();
    private readonly int _wake = SocketCalls.EventFd();
    private readonly ConcurrentQueue<Action> _work = new();
    private readonly byte[] _events = GC.AllocateUninitializedArray<byte>(MaxEvents * SocketCalls.EpollEventSize, pinned: true);
    private readonly byte[] _scratch = GC.AllocateUninitializedArray<byte>(ScratchSize, pinned: true);
    // Registered items by slot; the generation in each event's data tells a live item from one closed since.
    private Item?[] _items = new Item?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _free = new();
    private int _used;

    private RelayLoop(int index)
    {
        int error = SocketCalls.EpollControl(_epoll, SocketCalls.EpollCtlAdd, _wake, SocketCalls.EpollIn, WakeData);
        if (error != 0)
        {
            throw new IOException($"epoll_ctl of the relay loop's eventfd failed: errno {error}");
        }

        new Thread(Run) { IsBackground = true, Name = "userspace relay " + index }.Start();
    }

    /// <summary>Something registered with a loop: called on the loop's thread with the events of one of its sockets.</summary>
    public abstract class Item
    {
        /// <summary>The epoll data of this item's first socket (its second one adds 1), 0 while it is not registered.</summary>
        public ulong Data { get; set; }

        /// <param name="events">The EPOLL* bits.</param>
        /// <param name="second">Whether the events are those of the item's second socket.</param>
        public abstract void OnEvents(uint events, bool second);
    }

    /// <summary>The loop new work goes to, in turn.</summary>
    public static RelayLoop Next() => Loops[Interlocked.Increment(ref _next) % (uint)Loops.Length];

    /// <summary>The loop's receive buffer, for use on its thread only.</summary>
    public byte* Scratch => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scratch));

    /// <summary>Runs <paramref name="work"/> on the loop's thread, after the events it is handling now.</summary>
    public void Post(Action work)
    {
        _work.Enqueue(work);
        SocketCalls.Signal(_wake);
    }

    /// <summary>On the loop's thread: registers <paramref name="fd"/> edge-triggered for <paramref name="events"/>; 0 or the errno.</summary>
    public int Watch(Item item, int fd, bool second, uint events)
    {
        if (item.Data == 0)
        {
            int slot;
            if (!_free.TryPop(out slot))
            {
                slot = _used++;
                if (slot == _items.Length)
                {
                    Array.Resize(ref _items, slot * 2);
                    Array.Resize(ref _generations, slot * 2);
                }
            }

            _items[slot] = item;
            item.Data = ((ulong)_generations[slot] << 32) | ((ulong)(slot + 1) << 1);
        }

        return SocketCalls.EpollControl(_epoll, SocketCalls.EpollCtlAdd, fd, events | SocketCalls.EpollEt, item.Data + (second ? 1UL : 0UL));
    }

    /// <summary>On the loop's thread: stops watching <paramref name="fd"/> (still open, to be used elsewhere).</summary>
    public void Unwatch(int fd) => SocketCalls.EpollControl(_epoll, SocketCalls.EpollCtlDel, fd, 0, 0);

    /// <summary>On the loop's thread: forgets <paramref name="item"/>, whose sockets are closed or unwatched; events still queued for it are dropped.</summary>
    public void Release(Item item)
    {
        if (item.Data == 0)
        {
            return;
        }

        int slot = SlotOf(item.Data);
        _items[slot] = null;
        _generations[slot]++;
        _free.Push(slot);
        item.Data = 0;
    }

    // Slots count from 1 in the data, so that 0 means "not registered".
    private static int SlotOf(ulong data) => (int)((uint)data >> 1) - 1;

    private void Run()
    {
        byte* events = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_events));
        while (true)
        {
            int count = SocketCalls.EpollWait(_epoll, events, MaxEvents, -1);
            if (count < 0)
            {
                int error = Marshal.GetLastPInvokeError();
                if (error == SocketCalls.EIntr)
                {
                    continue;
                }

                throw new IOException($"epoll_wait of a relay loop failed: errno {error}");
            }

            for (int i = 0; i < count; i++)
            {
                var (bits, data) = SocketCalls.EpollEventAt(events, i);
                if (data == WakeData)
                {
                    SocketCalls.Drain(_wake);
                    continue;
                }

                int slot = SlotOf(data);
                if (_items[slot] is { } item && _generations[slot] == (uint)(data >> 32))
                {
                    item.OnEvents(bits, (data & 1) != 0);
                }
            }

            while (_work.TryDequeue(out var work))
            {
                work();
            }
        }
    }
}
