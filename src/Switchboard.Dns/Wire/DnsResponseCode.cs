namespace Switchboard.Dns.Wire;

/// <summary>Response codes; values above 15 are extended and need an OPT record to carry their upper bits (RFC 6891).</summary>
internal enum DnsResponseCode : ushort
{
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NXDomain = 3,
    NotImp = 4,
    Refused = 5,
    BadVers = 16,
}
