using System.Buffers.Binary;
using System.Globalization;
using Switchboard.Proxy.Netlink;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// One nf_tables transaction for one table of the ip family, as netlink messages between NFNL_MSG_BATCH_BEGIN and
/// BATCH_END: the kernel applies all of it or none. Every message gets its own sequence number and is remembered by
/// operation and object, so an error reply names the message that failed.
/// </summary>
internal sealed class NftBatch(string table) : IDisposable
{
    /// <summary>NFTA_DATA_VERDICT codes (include/uapi/linux/netfilter.h, nf_tables.h).</summary>
    public const int Accept = 1;
    public const int Return = -5;
    public const int Jump = -3;
    public const int Goto = -4;

    // 32-bit registers, as nft numbers them: NFT_REG_1 (= NFT_REG32_00) for the first value, NFT_REG_2 for a
    // second one (nat's proto), 9 and 10 for the next 4-byte slots of a concatenation.
    public const uint Reg1 = 1;
    public const uint Reg2 = 2;
    public const uint Reg32_01 = 9;
    public const uint Reg32_02 = 10;

    private const byte FamilyIpv4 = 2;
    private const ushort SubsystemNftables = 10;
    private const ushort BatchBegin = 0x10;
    private const ushort BatchEnd = 0x11;
    private const ushort Request = 0x1;
    private const ushort Ack = 0x4;
    private const ushort Create = 0x400;
    private const ushort Append = 0x800;
    private const uint VerdictData = 0xFFFFFF00;
    private const uint SetAnonymous = 0x1;
    private const uint SetConstant = 0x2;
    private const uint SetMap = 0x8;
    private const uint SetTimeout = 0x10;
    private const uint SetEval = 0x20;

    // Set userdata for nft only (the kernel keeps it opaque): TLV key byte order (0) = host endian (1), so that
    // `nft list` prints numgen's keys 0, 1, 2 rather than their bytes read big-endian.
    private static ReadOnlySpan<byte> HostOrderKeys => [0, 4, 1, 0, 0, 0];

    // nla_len is 16 bits: a NEWSETELEM's element list is closed well below 64 KiB and continued in a new message.
    private const int MaxElementsBytes = 48 * 1024;

    private readonly NetlinkWriter _w = new();
    private readonly List<(NftOperation Operation, string Object)> _messages = [];
    private uint _firstSequence = 1;
    private uint _nextSetId;
    private bool _ackEach;
    private int _message = -1;
    private int _nest;
    private int _elements;
    private string? _elementSet;
    private NftOperation _elementOperation;
    private uint _anonymousMaps;
    private int _expression;
    private int _expressionData;

    public ReadOnlySpan<byte> Written => _w.Written;

    public int Bytes => _w.Length;

    /// <summary>The messages between BEGIN and END, in order.</summary>
    public IReadOnlyList<(NftOperation Operation, string Object)> Messages => _messages;

    /// <summary>The sequence number of BATCH_END, whose ACK says the transaction was committed.</summary>
    public uint EndSequence { get; private set; }

    /// <summary>Whether every message asks for an ACK (small batches), or only END (a full sync's 100,000 messages).</summary>
    public bool AckEach => _ackEach;

    public void Begin(uint firstSequence, bool ackEach)
    {
        _w.Clear();
        _messages.Clear();
        _firstSequence = firstSequence;
        _ackEach = ackEach;
        _nextSetId = 0;
        int start = _w.BeginMessage(BatchBegin, Request, firstSequence - 1, 0, SubsystemNftables);
        _w.EndMessage(start);
    }

    public void End()
    {
        EndElements();
        EndSequence = _firstSequence + (uint)_messages.Count;
        int start = _w.BeginMessage(BatchEnd, Request | Ack, EndSequence, 0, SubsystemNftables);
        _w.EndMessage(start);
    }

    /// <summary>The message a reply's sequence number refers to, for error texts.</summary>
    public string Describe(uint sequence)
    {
        if (sequence == EndSequence)
        {
            return "the commit (BATCH_END)";
        }

        long index = (long)sequence - _firstSequence;
        return index >= 0 && index < _messages.Count
            ? $"{_messages[(int)index].Operation} {table} {_messages[(int)index].Object}"
            : $"message {sequence}";
    }

    public void AddTable() => Simple(NftOperation.NewTable, Create, table, static (w, name) => w.String(1, name));

    public void DeleteTable() => Simple(NftOperation.DelTable, 0, table, static (w, name) => w.String(1, name));

    public void AddChain(string chain) => Simple(NftOperation.NewChain, Create, chain, (w, c) => { w.String(1, table); w.String(3, c); });

    /// <summary>A chain on a netfilter hook: <paramref name="type"/> "filter" or "nat", accepting by default.</summary>
    public void AddBaseChain(string chain, string type, uint hook, int priority)
    {
        Start(NftOperation.NewChain, Create, chain);
        _w.String(1, table);
        _w.String(3, chain);
        int nest = _w.BeginNest(4);
        _w.U32(1, hook);
        _w.U32(2, unchecked((uint)priority));
        _w.EndNest(nest);
        _w.U32(5, Accept);
        _w.String(7, type);
        Finish();
    }

    /// <summary>Deletes every rule of <paramref name="chain"/> (DELRULE without a handle).</summary>
    public void FlushChain(string chain) => Simple(NftOperation.FlushChain, 0, chain, (w, c) => { w.String(1, table); w.String(2, c); });

    public void DeleteChain(string chain) => Simple(NftOperation.DelChain, 0, chain, (w, c) => { w.String(1, table); w.String(3, c); });

    /// <summary>A verdict map keyed by <paramref name="keyLength"/> bytes of nft type <paramref name="keyType"/>.</summary>
    public void AddVerdictMap(string name, uint keyType, uint keyLength) => AddSet(name, SetMap, keyType, keyLength, VerdictData, 0);

    /// <summary>A set of IPv4 addresses whose elements expire <paramref name="timeoutSeconds"/> after their last update (nft's <c>flags dynamic,timeout</c>).</summary>
    public void AddTimeoutAddressSet(string name, int timeoutSeconds) =>
        AddSet(name, SetTimeout | SetEval, NftTypes.Ipv4Address, 4, null, (ulong)timeoutSeconds * 1000);

    public void DeleteSet(string name) => Simple(NftOperation.DelSet, 0, name, (w, n) => { w.String(1, table); w.String(2, n); });

    /// <summary>Adds (or deletes) <paramref name="key"/> → goto <paramref name="chain"/> in map <paramref name="set"/>; consecutive calls share messages.</summary>
    public void Element(NftOperation operation, string set, ReadOnlySpan<byte> key, string? chain)
    {
        if (_elementSet != set || _elementOperation != operation || _w.Length - _elements > MaxElementsBytes)
        {
            EndElements();
            StartElements(operation, set);
        }

        WriteElement(key, chain);
    }

    /// <summary>
    /// An anonymous constant map from 0..n-1 to goto <paramref name="chains"/> (<c>vmap { 0 : goto a, 1 : goto b }</c>)
    /// for the next rule's lookup; returns its name.
    /// </summary>
    public string AnonymousVerdictMap(IReadOnlyList<string> chains)
    {
        // nft names anonymous maps "__map%d" and lets the kernel pick the number, which scans every set of the table,
        // and then finds them by batch-local id, which scans the whole transaction: a full sync of 10,000 services
        // took minutes. A name of our own, never reused (the old map goes with its rule), is found directly.
        string name = "__map" + _anonymousMaps++.ToString(CultureInfo.InvariantCulture);
        AddSet(name, SetAnonymous | SetConstant | SetMap, NftTypes.Integer, 4, VerdictData, 0, HostOrderKeys);
        StartElements(NftOperation.NewSetElem, name);
        Span<byte> key = stackalloc byte[4];
        for (int i = 0; i < chains.Count; i++)
        {
            // numgen writes a host-order integer into its register.
            BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)i);
            WriteElement(key, chains[i]);
        }

        EndElements();
        return name;
    }

    /// <summary>Starts a rule appended to <paramref name="chain"/>; expressions follow, then <see cref="EndRule"/>.</summary>
    public void BeginRule(string chain)
    {
        Start(NftOperation.NewRule, Create | Append, chain);
        _w.String(1, table);
        _w.String(2, chain);
        _nest = _w.BeginNest(4);
    }

    public void EndRule()
    {
        _w.EndNest(_nest);
        Finish();
    }

    public void Payload(NftPayloadBase payloadBase, uint offset, uint length, uint register) =>
        Expression("payload", (payloadBase, offset, length, register), static (w, e) =>
        {
            w.U32(1, e.register);
            w.U32(2, (uint)e.payloadBase);
            w.U32(3, e.offset);
            w.U32(4, e.length);
        });

    public void Meta(NftMetaKey key, uint register) => Expression("meta", (key, register), static (w, e) => { w.U32(2, (uint)e.key); w.U32(1, e.register); });

    public void MetaSet(NftMetaKey key, uint register) => Expression("meta", (key, register), static (w, e) => { w.U32(2, (uint)e.key); w.U32(3, e.register); });

    public void Cmp(NftCmpOp op, uint register, ReadOnlySpan<byte> value)
    {
        BeginExpression("cmp");
        _w.U32(1, register);
        _w.U32(2, (uint)op);
        Data(3, value);
        EndExpression();
    }

    /// <summary>register = (register &amp; mask) ^ xor, over 4 bytes given in register (host) order.</summary>
    public void Bitwise(uint register, ReadOnlySpan<byte> mask, ReadOnlySpan<byte> xor)
    {
        BeginExpression("bitwise");
        _w.U32(1, register);
        _w.U32(2, register);
        _w.U32(3, (uint)mask.Length);
        Data(4, mask);
        Data(5, xor);
        EndExpression();
    }

    /// <summary>Looks the register up in a named set (a match) or verdict map (<paramref name="verdict"/>).</summary>
    public void Lookup(string set, uint register, bool verdict)
    {
        BeginExpression("lookup");
        _w.String(1, set);
        _w.U32(2, register);
        if (verdict)
        {
            _w.U32(3, 0);
        }

        EndExpression();
    }

    public void Verdict(int code, string? chain = null)
    {
        BeginExpression("immediate");
        _w.U32(1, 0);
        int data = _w.BeginNest(2);
        VerdictAttribute(code, chain);
        _w.EndNest(data);
        EndExpression();
    }

    public void Immediate(uint register, ReadOnlySpan<byte> value)
    {
        BeginExpression("immediate");
        _w.U32(1, register);
        Data(2, value);
        EndExpression();
    }

    /// <summary><c>numgen random mod <paramref name="modulus"/></c> into the register.</summary>
    public void RandomNumber(uint register, uint modulus) =>
        Expression("numgen", (register, modulus), static (w, e) => { w.U32(1, e.register); w.U32(2, e.modulus); w.U32(3, 1); });

    /// <summary>DNAT to the address in <paramref name="addressRegister"/> and the port in <paramref name="portRegister"/>.</summary>
    public void Dnat(uint addressRegister, uint portRegister) =>
        Expression("nat", (addressRegister, portRegister), static (w, e) =>
        {
            const uint ProtoSpecified = 2;
            w.U32(1, 1);
            w.U32(2, FamilyIpv4);
            w.U32(3, e.addressRegister);
            w.U32(5, e.portRegister);
            w.U32(7, ProtoSpecified);
        });

    /// <summary><c>masquerade fully-random</c>.</summary>
    public void MasqueradeFullyRandom() => Expression("masq", 0, static (w, _) => w.U32(1, 0x10));

    /// <summary><c>reject</c> in an ip table: ICMP port unreachable, which a TCP client sees as "connection refused".</summary>
    public void RejectPortUnreachable() => Expression("reject", 0, static (w, _) => { w.U32(1, 0); w.U8(2, 3); });

    public void CtState(uint register) => Expression("ct", register, static (w, r) => { w.U32(1, r); w.U32(2, 0); });

    /// <summary><c>fib daddr type</c> into the register.</summary>
    public void FibDestinationType(uint register) => Expression("fib", register, static (w, r) => { w.U32(1, r); w.U32(2, 3); w.U32(3, 2); });

    /// <summary><c>update @set { key }</c>: adds the register's value to the set or refreshes its timeout.</summary>
    public void UpdateSet(string set, uint register) =>
        Expression("dynset", (set, register), static (w, e) => { w.String(1, e.set); w.U32(3, 1); w.U32(4, e.register); });

    public void Dispose() => _w.Dispose();

    private uint AddSet(string name, uint flags, uint keyType, uint keyLength, uint? dataType, ulong timeoutMs, ReadOnlySpan<byte> userData = default)
    {
        uint id = ++_nextSetId;
        Start(NftOperation.NewSet, Create, name);
        _w.String(1, table);
        _w.String(2, name);
        _w.U32(3, flags);
        _w.U32(4, keyType);
        _w.U32(5, keyLength);
        if (dataType is { } data)
        {
            _w.U32(6, data);
            _w.U32(7, 0);
        }

        _w.U32(10, id);
        if (timeoutMs > 0)
        {
            _w.U64(11, timeoutMs);
        }

        if (!userData.IsEmpty)
        {
            _w.Bytes(13, userData);
        }

        Finish();
        return id;
    }

    private void StartElements(NftOperation operation, string set)
    {
        Start(operation, operation == NftOperation.NewSetElem ? Create : (ushort)0, set);
        _w.String(1, table);
        _w.String(2, set);
        _elements = _w.BeginNest(3);
        _elementSet = set;
        _elementOperation = operation;
    }

    private void WriteElement(ReadOnlySpan<byte> key, string? chain)
    {
        int element = _w.BeginNest(1);
        Data(1, key);
        if (chain is not null && _elementOperation == NftOperation.NewSetElem)
        {
            int data = _w.BeginNest(2);
            VerdictAttribute(Goto, chain);
            _w.EndNest(data);
        }

        _w.EndNest(element);
    }

    private void EndElements()
    {
        if (_elementSet is null)
        {
            return;
        }

        _w.EndNest(_elements);
        _elementSet = null;
        Finish();
    }

    private void VerdictAttribute(int code, string? chain)
    {
        int verdict = _w.BeginNest(2);
        _w.U32(1, unchecked((uint)code));
        if (chain is not null)
        {
            _w.String(2, chain);
        }

        _w.EndNest(verdict);
    }

    private void Data(ushort type, ReadOnlySpan<byte> value)
    {
        int nest = _w.BeginNest(type);
        _w.Bytes(1, value);
        _w.EndNest(nest);
    }

    private void Expression<T>(string name, T state, Action<NetlinkWriter, T> write)
    {
        BeginExpression(name);
        write(_w, state);
        EndExpression();
    }

    private void BeginExpression(string name)
    {
        _expression = _w.BeginNest(1);
        _w.String(1, name);
        _expressionData = _w.BeginNest(2);
    }

    private void EndExpression()
    {
        _w.EndNest(_expressionData);
        _w.EndNest(_expression);
    }

    private void Simple(NftOperation operation, ushort flags, string name, Action<NetlinkWriter, string> write)
    {
        Start(operation, flags, name);
        write(_w, name);
        Finish();
    }

    private void Start(NftOperation operation, ushort flags, string name)
    {
        if (operation is not (NftOperation.NewSetElem or NftOperation.DelSetElem))
        {
            EndElements();
        }

        uint sequence = _firstSequence + (uint)_messages.Count;
        _messages.Add((operation, name));
        _message = _w.BeginMessage((ushort)((SubsystemNftables << 8) | (ushort)operation), (ushort)(Request | flags | (_ackEach ? Ack : 0)), sequence, FamilyIpv4, 0);
    }

    private void Finish() => _w.EndMessage(_message);
}
