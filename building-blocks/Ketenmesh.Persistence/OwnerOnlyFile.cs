namespace Ketenmesh.Persistence;

/// <summary>
/// Keys and secrets in the data directory (signing keys, checkpoint key, local client keys, the
/// development certificate): readable by the owning user only, and written whole or not at all
/// (a temporary file moved into place), so a crash never leaves half a key behind.
/// </summary>
public static class OwnerOnlyFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(content);
        }
        File.Move(temporary, full, overwrite: true);
    }

    public static void WriteText(string path, string content) => Write(path, System.Text.Encoding.UTF8.GetBytes(content));
}
