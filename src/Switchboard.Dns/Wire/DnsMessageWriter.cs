using System.Buffers.Binary;

namespace Switchboard.Dns.Wire;

/// <summary>
/// Writes a message into a caller-owned span, compressing names against names already written
/// (RFC 1035 4.1.4). Every write either fits completely or leaves the writer unchanged and returns false.
/// </summary>
internal ref struct DnsMessageWriter
{
    private const int MaxPointerOffset = 0x3FFF;
    private const int MaxPointerHops = 128;

    private readonly Span<byte> _buffer;
    private readonly Span<ushort> _names;
    private int _nameCount;

    /// <remarks><c>compressionTable</c>: Offsets of names usable as compression targets; empty disables compression.</remarks>
    public DnsMessageWriter(Span<byte> buffer, Span<ushort> compressionTable)
    {
        _buffer = buffer;
        _names = compressionTable;
    }

    public int Position { get; private set; }

    public readonly ReadOnlySpan<byte> Written => _buffer[..Position];

    /// <summary>Moves back to an earlier position, forgetting compression targets written after it.</summary>
    public void Rewind(int position)
    {
        Position = position;
        while (_nameCount > 0 && _names[_nameCount - 1] >= position)
        {
            _nameCount--;
        }
    }

    public bool TryWriteUInt16(ushort value)
    {
        if (Position + 2 > _buffer.Length)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt16BigEndian(_buffer[Position..], value);
        Position += 2;
        return true;
    }

    public bool TryWriteUInt32(uint value)
    {
        if (Position + 4 > _buffer.Length)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(_buffer[Position..], value);
        Position += 4;
        return true;
    }

    public bool TryWriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.TryCopyTo(_buffer[Position..]))
        {
            return false;
        }

        Position += bytes.Length;
        return true;
    }

    public readonly void PatchUInt16(int offset, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer[offset..], value);

    /// <summary>Writes an uncompressed wire name, replacing its longest already-written suffix with a pointer.</summary>
    /// <remarks><c>compress</c>: False where the RFCs forbid compression (SRV targets, RFC 2782); the name still becomes a target.</remarks>
    public bool TryWriteName(ReadOnlySpan<byte> name, bool compress = true)
    {
        int start = Position;
        int labelOffset = 0;
        while (compress && name[labelOffset] != 0)
        {
            int target = FindName(name[labelOffset..]);
            if (target >= 0)
            {
                if (!TryWriteLabels(name[..labelOffset]) || !TryWriteUInt16((ushort)(0xC000 | target)))
                {
                    Rewind(start);
                    return false;
                }

                return true;
            }

            labelOffset += 1 + name[labelOffset];
        }

        if (!TryWriteLabels(name))
        {
            Rewind(start);
            return false;
        }

        return true;
    }

    public bool TryWriteQuestion(ReadOnlySpan<byte> name, ushort type, ushort @class)
    {
        int start = Position;
        if (TryWriteName(name) && TryWriteUInt16(type) && TryWriteUInt16(@class))
        {
            return true;
        }

        Rewind(start);
        return false;
    }

    /// <summary>Writes owner, type, class, TTL and a placeholder RDLENGTH; finish with <see cref="EndRecord"/>.</summary>
    public bool TryBeginRecord(ReadOnlySpan<byte> owner, ushort type, ushort @class, uint ttl, out int rdLengthOffset)
    {
        int start = Position;
        rdLengthOffset = 0;
        if (TryWriteName(owner) && TryWriteUInt16(type) && TryWriteUInt16(@class) && TryWriteUInt32(ttl))
        {
            rdLengthOffset = Position;
            if (TryWriteUInt16(0))
            {
                return true;
            }
        }

        Rewind(start);
        return false;
    }

    public readonly void EndRecord(int rdLengthOffset) => PatchUInt16(rdLengthOffset, (ushort)(Position - rdLengthOffset - 2));

    /// <summary>Writes labels (a name prefix or a whole name with its root) and remembers where each begins.</summary>
    private bool TryWriteLabels(ReadOnlySpan<byte> labels)
    {
        if (Position + labels.Length > _buffer.Length)
        {
            return false;
        }

        for (int offset = 0; offset < labels.Length && labels[offset] != 0; offset += 1 + labels[offset])
        {
            Remember(Position + offset);
        }

        labels.CopyTo(_buffer[Position..]);
        Position += labels.Length;
        return true;
    }

    private void Remember(int offset)
    {
        if (offset <= MaxPointerOffset && _nameCount < _names.Length)
        {
            _names[_nameCount++] = (ushort)offset;
        }
    }

    private readonly int FindName(ReadOnlySpan<byte> suffix)
    {
        for (int i = 0; i < _nameCount; i++)
        {
            if (NameAtEquals(_names[i], suffix))
            {
                return _names[i];
            }
        }

        return -1;
    }

    /// <summary>Compares the name written at <paramref name="offset"/> (following pointers) with an uncompressed name.</summary>
    private readonly bool NameAtEquals(int offset, ReadOnlySpan<byte> name)
    {
        int position = offset;
        int compared = 0;
        for (int hops = 0; hops < MaxPointerHops; hops++)
        {
            byte b = _buffer[position];
            if ((b & 0xC0) == 0xC0)
            {
                position = ((b & 0x3F) << 8) | _buffer[position + 1];
                continue;
            }

            if (compared + 1 + b > name.Length || !DnsName.EqualsIgnoreCase(_buffer.Slice(position, 1 + b), name.Slice(compared, 1 + b)))
            {
                return false;
            }

            if (b == 0)
            {
                return compared + 1 == name.Length;
            }

            compared += 1 + b;
            position += 1 + b;
        }

        return false;
    }
}
