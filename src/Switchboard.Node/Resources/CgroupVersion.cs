namespace Switchboard.Node.Resources;

internal enum CgroupVersion
{
    V1 = 1,
    V2 = 2,
}
