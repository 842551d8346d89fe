namespace TestKit.Migrations;

/// <summary>One script of a migration set: its path, its name, and its version (null for a repeatable script).</summary>
internal sealed record MigrationScript(string Path, string FileName, string? Version)
{
    internal bool IsRepeatable => Version is null;
}
