namespace Switchboard.Dns.Wire;

/// <summary>
/// Resource records encoded once, ready to be copied behind a question. They were written as if the
/// question name sat at offset 12, so compression pointers stay valid for any query of the same name
/// (same length, any case) and owner names pointing into the question echo the query's case.
/// Records are ordered answer, authority, additional; any prefix of them is a well-formed message body.
/// </summary>
internal sealed class PrecomputedRecords
{
    private readonly byte[] _bytes;
    private readonly int[] _recordEnds;

    public PrecomputedRecords(byte[] bytes, int[] recordEnds, int answerCount, int authorityCount)
    {
        _bytes = bytes;
        _recordEnds = recordEnds;
        AnswerCount = answerCount;
        AuthorityCount = authorityCount;
    }

    public int AnswerCount { get; }

    public int AuthorityCount { get; }

    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>How many leading records fit in <paramref name="available"/> bytes.</summary>
    public int CountFitting(int available)
    {
        if (_bytes.Length <= available)
        {
            return _recordEnds.Length;
        }

        int index = Array.BinarySearch(_recordEnds, available);
        return index >= 0 ? index + 1 : ~index;
    }

    /// <summary>Byte length of the first <paramref name="count"/> records.</summary>
    public int LengthOf(int count) => count == 0 ? 0 : _recordEnds[count - 1];
}
