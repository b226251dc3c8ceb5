namespace Switchboard.Dns.Wire;

internal enum DnsClass : ushort
{
    IN = 1,
    CH = 3,
    HS = 4,
    None = 254,
    Any = 255,
}
