using System.Runtime.InteropServices;

namespace Ketenmesh.Hosting;

/// <summary>
/// The data directory holds the registry's and the signal intake's databases, keys, certificates and the audit
/// log: readable by the user the mesh runs as and no one else. Every file a component creates is owner-only
/// (the process's file mode creation mask is 077, so SQLite's databases and their journals are 0600 too),
/// the directory is 0700, and what an older version left readable to others is closed at start.
/// </summary>
public static class PrivateDataDirectory
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupAndOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Makes every file this process creates from now on owner-only, and <paramref name="directory"/> private.</summary>
    public static void Secure(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        // The mask is process-wide: every library that creates a file (SQLite, the key stores) gets it too.
        _ = SetFileCreationMask(0b000_111_111);
        Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        try
        {
            Close(new DirectoryInfo(directory));
        }
        catch (UnauthorizedAccessException)
        {
            // A volume mounted for another user (a container's): its owner decides its mode; what this process
            // creates in it is owner-only all the same.
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void Close(DirectoryInfo directory)
    {
        if ((directory.UnixFileMode & GroupAndOthers) != 0)
        {
            directory.UnixFileMode &= ~GroupAndOthers;
        }
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null)
            {
                // A link may point anywhere: its target is not ours to change.
                continue;
            }
            if (entry is DirectoryInfo child)
            {
                Close(child);
            }
            else if ((entry.UnixFileMode & GroupAndOthers) != 0)
            {
                entry.UnixFileMode &= ~GroupAndOthers;
            }
        }
    }

    // DllImport rather than LibraryImport: a blittable call needs no generated marshalling, nor unsafe code.
    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint SetFileCreationMask(uint mask);
}
