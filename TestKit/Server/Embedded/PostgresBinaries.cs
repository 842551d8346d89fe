using TestKit.Diagnostics;

namespace TestKit.Server.Embedded;

/// <summary>The folder that holds this machine's PostgreSQL server programs (initdb, pg_ctl).</summary>
internal sealed record PostgresBinaries(string Directory)
{
    internal string InitDb => Path.Combine(Directory, "initdb");

    internal string PgCtl => Path.Combine(Directory, "pg_ctl");

    /// <summary>Looks on PATH, then asks <c>pg_config --bindir</c>, then tries the usual install folders.</summary>
    internal static async Task<PostgresBinaries> LocateAsync(CancellationToken cancellationToken)
    {
        string[] fromPgConfig = await PgConfigBinDirectoryAsync(cancellationToken).ConfigureAwait(false) is { } directory ? [directory] : [];
        return PathDirectories().Concat(fromPgConfig).Concat(UsualInstallDirectories())
            .Select(candidate => new PostgresBinaries(candidate))
            .FirstOrDefault(binaries => File.Exists(binaries.InitDb) && File.Exists(binaries.PgCtl))
            ?? throw new TestKitException(
                "TestKit found no PostgreSQL server programs (initdb and pg_ctl) on PATH, through pg_config --bindir, " +
                "or in /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, /usr/local/pgsql/bin. Either install PostgreSQL's server package " +
                "(Debian/Ubuntu: apt-get install postgresql) so that TestKit can start its embedded server, " +
                "or set TESTKIT_CONNECTION_STRING to a server you run yourself.");
    }

    private static IEnumerable<string> PathDirectories() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

    private static async Task<string?> PgConfigBinDirectoryAsync(CancellationToken cancellationToken)
    {
        var pgConfig = PathDirectories().Select(directory => Path.Combine(directory, "pg_config")).FirstOrDefault(File.Exists);
        if (pgConfig is null)
        {
            return null;
        }

        var result = await ServerProcessUser.Current.RunAsync(pgConfig, ["--bindir"], cancellationToken).ConfigureAwait(false);
        return result.IsSuccess ? result.StandardOutput.Trim() : null;
    }

    /// <summary>Distribution folders, newest major version first.</summary>
    private static IEnumerable<string> UsualInstallDirectories()
    {
        static IEnumerable<string> Versioned(string parent, string pattern, string suffix) =>
            System.IO.Directory.Exists(parent)
                ? System.IO.Directory.GetDirectories(parent, pattern)
                    .OrderByDescending(MajorVersion)
                    .Select(directory => Path.Combine(directory, suffix))
                : [];

        return
        [
            .. Versioned("/usr/lib/postgresql", "*", "bin"),
            .. Versioned("/usr", "pgsql-*", "bin"),
            "/usr/local/pgsql/bin",
            .. Versioned("/opt/homebrew/opt", "postgresql*", "bin"),
            .. Versioned("/usr/local/opt", "postgresql*", "bin"),
        ];
    }

    private static int MajorVersion(string directory)
    {
        var digits = new string(Path.GetFileName(directory).Where(char.IsAsciiDigit).ToArray());
        return int.TryParse(digits, out var version) ? version : 0;
    }
}
