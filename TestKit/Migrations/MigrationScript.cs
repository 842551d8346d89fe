namespace TestKit.Migrations;

/// <summary>One script of a migration set: its path, its name, and its version (null for a repeatable script).</summary>
internal sealed record MigrationScript(string Path, string FileName, string? Version)
{
    /// <summary>Size and last write time when the set was loaded: a cheap check that the file has not changed since.</summary>
    internal (long Length, DateTime LastWriteUtc) Stamp { get; } = StampOf(Path);

    internal static (long Length, DateTime LastWriteUtc) StampOf(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, DateTime.MinValue);
    }

    internal bool IsRepeatable => Version is null;
}
