using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Configuration;

/// <summary>
/// Picks the server a run uses, most specific first: a connection string in code or <c>TESTKIT_CONNECTION_STRING</c>,
/// libpq's <c>PG*</c> variables, then the embedded server (its programs, and how long it is kept between runs).
/// </summary>
internal static class ServerResolver
{
    internal const string ConnectionStringVariable = "TESTKIT_CONNECTION_STRING";
    internal const string PostgresBinVariable = "TESTKIT_POSTGRES_BIN";
    internal const string KeepServerVariable = "TESTKIT_KEEP_SERVER";

    private static readonly string[] LibpqVariables = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"];

    /// <summary>
    /// The kept embedded server <paramref name="environment"/> alone asks for (<c>TESTKIT_KEEP_SERVER</c> outside CI), for a
    /// session to reach before its first test asks; null when it asks for none, or for something the tests will report.
    /// </summary>
    internal static ServerSource? KeptServerFrom(Func<string, string?> environment)
    {
        try
        {
            return Resolve(TestKitOptions.Default, OptionsResolver.Normalized(environment)) is { KeepIdle: not null } kept ? kept : null;
        }
        catch (Exception e) when (e is TestKitException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>How long the embedded server is kept after a run; never under CI (<c>CI</c> set), where every run starts clean.</summary>
    private static TimeSpan? KeepIdle(TestKitOptions options, Func<string, string?> environment) =>
        environment("CI") is not null
            ? null
            : options.KeepServer ?? (OptionsResolver.ParseNumber(environment(KeepServerVariable), KeepServerVariable) is { } seconds ? TimeSpan.FromSeconds(seconds) : null);

    /// <summary>The server <paramref name="options"/> and <paramref name="environment"/> (unset read as null) name, with how long it is kept.</summary>
    internal static ServerSource Resolve(TestKitOptions options, Func<string, string?> environment)
    {
        var named = Named(options, environment);
        return named.IsEmbedded && KeepIdle(options, environment) is { } idle ? named with { KeepIdle = idle } : named;
    }

    private static ServerSource Named(TestKitOptions options, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new ServerSource(Parse(options.ConnectionString, "TestKitOptions.ConnectionString", fromCode: true), "TestKitOptions.ConnectionString");
        }

        if (environment(ConnectionStringVariable) is { } fromVariable)
        {
            return new ServerSource(Parse(fromVariable, ConnectionStringVariable, fromCode: false), ConnectionStringVariable);
        }

        if (LibpqVariables.Any(name => environment(name) is not null))
        {
            return new ServerSource(FromLibpqVariables(environment), "PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE");
        }

        if (options.PostgresBinDirectory is { } fromCodeBin)
        {
            return EmbeddedWith(fromCodeBin, "TestKitOptions.PostgresBinDirectory", fromCode: true);
        }

        return environment(PostgresBinVariable) is { } bin ? EmbeddedWith(bin, PostgresBinVariable, fromCode: false) : ServerSource.Embedded;
    }

    /// <summary>The embedded server run from the programs in <paramref name="directory"/>, which must hold initdb and pg_ctl.</summary>
    private static ServerSource EmbeddedWith(string directory, string origin, bool fromCode)
    {
        var full = string.IsNullOrWhiteSpace(directory) ? string.Empty : Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory.Trim()));
        if (full.Length > 0 && File.Exists(Path.Combine(full, "initdb")) && File.Exists(Path.Combine(full, "pg_ctl")))
        {
            return new ServerSource(null, origin, full);
        }

        var message = $"{origin} is '{directory}', which holds no PostgreSQL server programs (initdb and pg_ctl). " +
            "Name the bin folder of a PostgreSQL installation (pg_config --bindir prints it), or unset it to use the first one found on PATH.";
        throw fromCode ? new ArgumentException(message, "options") : new TestKitException(message);
    }

    private static NpgsqlConnectionStringBuilder Parse(string connectionString, string origin, bool fromCode)
    {
        try
        {
            return WithDefaults(new NpgsqlConnectionStringBuilder(connectionString));
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // The parser's message names the bad key, never a value, so it is safe to pass on.
            var message = $"{origin} is not a valid Npgsql connection string ({e.Message}). " +
                "Use the form Host=localhost;Port=5432;Username=me;Password=secret;Database=postgres, or unset it to use the embedded PostgreSQL.";
            throw fromCode ? new ArgumentException(message, "options", e) : new TestKitException(message, e);
        }
    }

    /// <summary>
    /// The server libpq's variables name. Npgsql reads PGUSER, PGPASSWORD and PGPASSFILE itself when a connection string
    /// leaves them out, but not PGHOST, PGPORT or PGDATABASE (Npgsql 10): those three are taken here.
    /// </summary>
    private static NpgsqlConnectionStringBuilder FromLibpqVariables(Func<string, string?> environment)
    {
        var builder = new NpgsqlConnectionStringBuilder { Host = environment("PGHOST") ?? "localhost", Database = environment("PGDATABASE") };
        if (OptionsResolver.ParseNumber(environment("PGPORT"), "PGPORT", most: 65535) is { } port)
        {
            builder.Port = port;
        }

        return WithDefaults(builder);
    }

    private static NpgsqlConnectionStringBuilder WithDefaults(NpgsqlConnectionStringBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Host))
        {
            throw new ArgumentException("the connection string names no Host");
        }

        // The named database is only where the kit connects to create its own; postgres always exists.
        if (string.IsNullOrEmpty(builder.Database))
        {
            builder.Database = "postgres";
        }

        return builder;
    }
}
