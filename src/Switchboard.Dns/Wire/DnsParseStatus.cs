namespace Switchboard.Dns.Wire;

internal enum DnsParseStatus
{
    Ok,

    /// <summary>Shorter than a header: nothing to answer to.</summary>
    TooShort,

    /// <summary>The header is readable but the rest is not: answer FORMERR.</summary>
    Malformed,
}
