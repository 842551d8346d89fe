namespace TestKit.Migrations;

/// <summary>One script of a migration set: its path and its version (null for a repeatable script).</summary>
internal sealed record MigrationScript(string Path, string? Version)
{
    /// <summary>The script's name, as Evolve's messages and <see cref="TestKitException.MigrationFile"/> give it.</summary>
    internal string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>Size and last write time when the set was loaded: a cheap check that the file has not changed since.</summary>
    internal (long Length, DateTime LastWriteUtc) Stamp { get; } = StampOf(Path);

    internal static (long Length, DateTime LastWriteUtc) StampOf(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, DateTime.MinValue);
    }

    internal bool IsRepeatable => Version is null;
}
