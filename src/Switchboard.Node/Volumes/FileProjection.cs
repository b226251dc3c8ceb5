namespace Switchboard.Node.Volumes;

/// <summary>One file of a projected volume (configMap, secret, downwardAPI, projected): its content and mode.</summary>
internal sealed record FileProjection(byte[] Data, UnixFileMode Mode);
