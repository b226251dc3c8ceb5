namespace Switchboard.Node.Volumes;

/// <summary>Kubelet's SetVolumeOwnership for an fsGroup: the group owns every file and directory, may read (and write, unless read-only) them; directories keep it (setgid).</summary>
internal static class Ownership
{
    private const UnixFileMode ReadWrite = UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    private const UnixFileMode ReadOnly = UnixFileMode.GroupRead;
    private const UnixFileMode DirectoryBits = UnixFileMode.SetGroup | UnixFileMode.GroupExecute;

    public static void Apply(string directory, long group, bool readOnly)
    {
        var files = readOnly ? ReadOnly : ReadWrite;
        Set(directory, group, files | DirectoryBits);
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            if (entry.LinkTarget is not null)
            {
                FileCalls.ChangeGroup(entry.FullName, group);
            }
            else
            {
                Set(entry.FullName, group, entry is DirectoryInfo ? files | DirectoryBits : files);
            }
        }
    }

    private static void Set(string path, long group, UnixFileMode add)
    {
        FileCalls.ChangeGroup(path, group);
        FileCalls.Chmod(path, new FileInfo(path).UnixFileMode | add);
    }
}
