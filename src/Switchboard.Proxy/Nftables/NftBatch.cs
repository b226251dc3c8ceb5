using Switchboard.Kube.Netlink;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// One nf_tables transaction for one table of the ip family, as netlink messages between NFNL_MSG_BATCH_BEGIN and
/// BATCH_END: the kernel applies all of it or none. Every message gets its own sequence number and is remembered by
/// operation and object, so an error reply names the message that failed.
/// </summary>
internal sealed class NftBatch(string table) : IDisposable
{
    /// <summary>NFTA_DATA_VERDICT codes (include/uapi/linux/netfilter.h, nf_tables.h).</summary>
    public const int Drop = 0;
    public const int Accept = 1;
    public const int Return = -5;
    public const int Jump = -3;
    public const int Goto = -4;

    // Registers, as nft numbers them: NFT_REG_1 (= NFT_REG32_00) for the first value, NFT_REG_2 for a second one
    // (nat's proto); 32-bit slots NFT_REG32_00..15 are 8..23, and a concatenation takes consecutive slots.
    public const uint Reg1 = 1;
    public const uint Reg2 = 2;

    /// <summary>The 32-bit register NFT_REG32_<paramref name="slot"/> (0..15).</summary>
    public static uint Reg32(int slot) => 8 + (uint)slot;

    private const byte FamilyIpv4 = 2;
    private const ushort SubsystemNftables = 10;
    private const ushort BatchBegin = 0x10;
    private const ushort BatchEnd = 0x11;
    private const ushort Request = 0x1;
    private const ushort Ack = 0x4;
    private const ushort Create = 0x400;
    private const ushort Append = 0x800;
    private const uint VerdictData = 0xFFFFFF00;
    private const uint SetMap = 0x8;
    private const uint SetTimeout = 0x10;
    private const uint SetEval = 0x20;

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

    /// <summary>
    /// Sends the transaction on <paramref name="socket"/> and checks every reply: an error names the message it
    /// answers; success is the ACK of BATCH_END (and, for small batches, one ACK per message).
    /// </summary>
    public void Commit(NetlinkSocket socket, string networkNamespace, List<NetlinkReply> replies)
    {
        socket.Send(Written);
        replies.Clear();
        socket.DrainReplies(replies);
        var errors = replies.Where(r => r.Error != 0).ToList();
        if (errors.Count > 0)
        {
            string first = string.Join("; ", errors.Take(5).Select(r =>
                $"{Describe(r.Sequence)}: {Errno.Name(-r.Error)}{(r.Message is null ? "" : " (" + r.Message + ")")}"));
            throw new NftablesException($"nf_tables transaction in {networkNamespace} refused, {errors.Count} error(s): {first}");
        }

        if (!replies.Any(r => r.Sequence == EndSequence))
        {
            throw new NftablesException($"nf_tables transaction in {networkNamespace} was not committed: no ACK for BATCH_END");
        }

        if (AckEach && replies.Count != _messages.Count + 1)
        {
            throw new NftablesException($"nf_tables transaction in {networkNamespace}: {replies.Count} ACKs for {_messages.Count + 1} messages");
        }
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
    /// <summary>
    /// A no-op on an existing <paramref name="chain"/> (NEWCHAIN without NLM_F_CREATE updates nothing), refused with
    /// ENOENT when it, or the table, is gone: a partial sync's canary, so a table someone deleted is rebuilt.
    /// </summary>
    public void RequireChain(string chain) => Simple(NftOperation.NewChain, 0, chain, (w, c) => { w.String(1, table); w.String(3, c); });

    public void FlushChain(string chain) => Simple(NftOperation.FlushChain, 0, chain, (w, c) => { w.String(1, table); w.String(2, c); });

    public void DeleteChain(string chain) => Simple(NftOperation.DelChain, 0, chain, (w, c) => { w.String(1, table); w.String(3, c); });

    /// <summary>A verdict map keyed by <paramref name="keyLength"/> bytes of nft type <paramref name="keyType"/>.</summary>
    public void AddVerdictMap(string name, uint keyType, uint keyLength) => WriteSet(name, SetMap, keyType, keyLength, VerdictData, 0);

    /// <summary>A set of <paramref name="keyLength"/>-byte keys of nft type <paramref name="keyType"/>.</summary>
    public void AddSet(string name, uint keyType, uint keyLength) => WriteSet(name, 0, keyType, keyLength, null, 0);

    /// <summary>
    /// A map from keys to <paramref name="dataLength"/> bytes of nft type <paramref name="dataType"/>; a
    /// <paramref name="dynamic"/> one is filled by the packet path (<see cref="Dynset"/>), its elements expiring.
    /// </summary>
    public void AddDataMap(string name, uint keyType, uint keyLength, uint dataType, uint dataLength, bool dynamic = false, uint size = 0) =>
        WriteSet(name, SetMap | (dynamic ? SetTimeout | SetEval : 0), keyType, keyLength, dataType, dataLength, size);

    /// <summary>Deletes every element of <paramref name="name"/> (DELSETELEM without elements).</summary>
    public void FlushSet(string name) => Simple(NftOperation.DelSetElem, 0, name, (w, n) => { w.String(1, table); w.String(2, n); });

    public void DeleteSet(string name) => Simple(NftOperation.DelSet, 0, name, (w, n) => { w.String(1, table); w.String(2, n); });

    /// <summary>Adds (or deletes) <paramref name="key"/> → goto <paramref name="chain"/> in map <paramref name="set"/>; consecutive calls share messages.</summary>
    public void Element(NftOperation operation, string set, ReadOnlySpan<byte> key, string? chain)
    {
        NextElement(operation, set);
        WriteElement(key, chain, default);
    }

    /// <summary>Adds (or deletes) <paramref name="key"/> (→ <paramref name="data"/> in a map) in <paramref name="set"/>; consecutive calls share messages.</summary>
    public void DataElement(NftOperation operation, string set, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        NextElement(operation, set);
        WriteElement(key, null, data);
    }

    /// <summary>
    /// Starts a rule appended to <paramref name="chain"/> (or put first when not <paramref name="append"/>);
    /// expressions follow, then <see cref="EndRule"/>.
    /// </summary>
    public void BeginRule(string chain, bool append = true)
    {
        Start(NftOperation.NewRule, (ushort)(Create | (append ? Append : 0)), chain);
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

    /// <summary>
    /// Looks the key starting at <paramref name="register"/> up in a named set or map: a match (not in it when
    /// <paramref name="inverted"/>), or in a verdict map (<paramref name="verdict"/>) a jump to the element's chain.
    /// </summary>
    public void Lookup(string set, uint register, bool verdict, bool inverted = false)
    {
        BeginExpression("lookup");
        _w.String(1, set);
        _w.U32(2, register);
        if (verdict)
        {
            _w.U32(3, 0);
        }

        if (inverted)
        {
            _w.U32(5, 1);
        }

        EndExpression();
    }

    /// <summary>Looks the key starting at <paramref name="register"/> up in a data map; the element's data goes to <paramref name="destination"/> onwards, else the rule stops.</summary>
    public void LookupData(string map, uint register, uint destination)
    {
        BeginExpression("lookup");
        _w.String(1, map);
        _w.U32(2, register);
        _w.U32(3, destination);
        EndExpression();
    }

    /// <summary>
    /// <c>add @map { key : data }</c> (or <c>update</c>, which also refreshes an existing element) from the packet
    /// path, the element expiring <paramref name="timeoutSeconds"/> after that.
    /// </summary>
    public void Dynset(string map, bool update, uint keyRegister, uint dataRegister, int timeoutSeconds) =>
        Expression("dynset", (map, update, keyRegister, dataRegister, timeoutSeconds), static (w, e) =>
        {
            w.String(1, e.map);
            w.U32(3, e.update ? 1u : 0u);
            w.U32(4, e.keyRegister);
            w.U32(5, e.dataRegister);
            w.U64(6, (ulong)e.timeoutSeconds * 1000);
        });

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

    /// <summary><c>numgen random mod <paramref name="modulus"/> offset <paramref name="offset"/></c> into the register.</summary>
    public void RandomNumber(uint register, uint modulus, uint offset) =>
        Expression("numgen", (register, modulus, offset), static (w, e) => { w.U32(1, e.register); w.U32(2, e.modulus); w.U32(3, 1); w.U32(4, e.offset); });

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

    /// <summary><c>log group <paramref name="group"/></c>: the packet to the nfnetlink_log group's listener, if any.</summary>
    public void LogGroup(ushort group) => Expression("log", group, static (w, g) => w.Bytes(1, [(byte)(g >> 8), (byte)g]));

    /// <summary><c>reject</c> in an ip table: ICMP port unreachable, which a TCP client sees as "connection refused".</summary>
    public void RejectPortUnreachable() => Expression("reject", 0, static (w, _) => { w.U32(1, 0); w.U8(2, 3); });

    public void CtState(uint register) => Expression("ct", register, static (w, r) => { w.U32(1, r); w.U32(2, 0); });

    /// <summary><c>ct mark</c> into the register.</summary>
    public void CtMark(uint register) => Expression("ct", register, static (w, r) => { w.U32(1, r); w.U32(2, 3); });

    /// <summary><c>ct mark set</c> the register.</summary>
    public void CtMarkSet(uint register) => Expression("ct", register, static (w, r) => { w.U32(2, 3); w.U32(4, r); });

    /// <summary><c>fib daddr type</c> into the register.</summary>
    public void FibDestinationType(uint register) => Expression("fib", register, static (w, r) => { w.U32(1, r); w.U32(2, 3); w.U32(3, 2); });

    /// <summary><c>fib saddr type</c> into the register.</summary>
    public void FibSourceType(uint register) => Expression("fib", register, static (w, r) => { w.U32(1, r); w.U32(2, 3); w.U32(3, 1); });

    public void Dispose() => _w.Dispose();

    private uint WriteSet(string name, uint flags, uint keyType, uint keyLength, uint? dataType, uint dataLength, uint size = 0)
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
            _w.U32(7, dataLength);
        }

        if (size > 0)
        {
            int desc = _w.BeginNest(9);
            _w.U32(1, size);
            _w.EndNest(desc);
        }

        _w.U32(10, id);
        Finish();
        return id;
    }

    private void NextElement(NftOperation operation, string set)
    {
        if (_elementSet != set || _elementOperation != operation || _w.Length - _elements > MaxElementsBytes)
        {
            EndElements();
            StartElements(operation, set);
        }
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

    private void WriteElement(ReadOnlySpan<byte> key, string? chain, ReadOnlySpan<byte> value)
    {
        int element = _w.BeginNest(1);
        Data(1, key);
        if (chain is not null && _elementOperation == NftOperation.NewSetElem)
        {
            int data = _w.BeginNest(2);
            VerdictAttribute(Goto, chain);
            _w.EndNest(data);
        }
        else if (!value.IsEmpty && _elementOperation == NftOperation.NewSetElem)
        {
            Data(2, value);
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
