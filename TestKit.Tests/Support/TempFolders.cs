namespace TestKit.Tests;

/// <summary>Fresh temporary folders for tests that need files of their own.</summary>
internal static class TempFolders
{
    internal static string Create()
    {
        var folder = Path.Combine(Path.GetTempPath(), "testkit-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>A copy of the sample migrations, to break or extend in one test.</summary>
    internal static string CopyOfSampleMigrations()
    {
        var copy = Create();
        foreach (var file in Directory.GetFiles(SampleMigrations))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    /// <summary>A copy of the sample migrations with one extra repeatable script, so that its fingerprint (and template) is its own.</summary>
    internal static string UniqueCopyOfSampleMigrations()
    {
        var folder = CopyOfSampleMigrations();
        File.WriteAllText(Path.Combine(folder, "R__zz_unique.sql"), $"-- {Guid.NewGuid():N}\nSELECT 1;\n");
        return folder;
    }

    /// <summary>
    /// Migrations of the kind many real schemas have: V1 creates <paramref name="role"/> (plainly, or only when it is missing),
    /// V2 a table with row-level security written for that role.
    /// </summary>
    internal static string RoleMigrations(string role, bool idempotent)
    {
        var folder = Create();
        File.WriteAllText(
            Path.Combine(folder, "V1__roles.sql"),
            idempotent
                ? $"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} NOLOGIN; END IF; END $$;\n"
                : $"CREATE ROLE {role} NOLOGIN;\n");
        File.WriteAllText(
            Path.Combine(folder, "V2__accounts.sql"),
            $"""
            CREATE TABLE accounts (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, owner text NOT NULL);
            ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
            GRANT SELECT ON accounts TO {role};
            CREATE POLICY own_rows ON accounts FOR SELECT TO {role} USING (owner = 'reader');
            INSERT INTO accounts (owner) VALUES ('reader'), ('someone else');

            """);
        return folder;
    }

    /// <summary>The sample migrations plus V8, which creates a schema of its own plainly, with a function and a table in it.</summary>
    internal static string SchemaCreatingMigrations()
    {
        var folder = UniqueCopyOfSampleMigrations();
        File.WriteAllText(Path.Combine(folder, "V8__utils_schema.sql"), """
            CREATE SCHEMA utils;
            CREATE FUNCTION utils.initials(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(left(name, 1)) $$;
            CREATE TABLE utils.audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text NOT NULL);
            ALTER TABLE customers ADD COLUMN initials text GENERATED ALWAYS AS (utils.initials(name)) STORED;

            """);
        return folder;
    }

    /// <summary>The sample migrations plus a repeatable script that drops and creates again a schema of its own.</summary>
    internal static string SchemaRecreatingMigrations()
    {
        var folder = UniqueCopyOfSampleMigrations();
        File.WriteAllText(Path.Combine(folder, "R__reports.sql"), """
            DROP SCHEMA IF EXISTS reports CASCADE;
            CREATE SCHEMA reports;
            CREATE VIEW reports.customer_count AS SELECT count(*) AS customers FROM customers;
            CREATE TABLE reports.snapshots (taken_at timestamptz NOT NULL DEFAULT now(), customers bigint NOT NULL);

            """);
        return folder;
    }

    /// <summary>
    /// The sample migrations plus V8, with functions whose bodies are SQL-standard (BEGIN ATOMIC, PostgreSQL 14+): one of
    /// several statements, one with a CASE ... END inside; Npgsql alone would split them at their inner semicolons.
    /// </summary>
    internal static string StandardBodyMigrations()
    {
        var folder = UniqueCopyOfSampleMigrations();
        File.WriteAllText(Path.Combine(folder, "V8__standard_bodies.sql"), """
            CREATE FUNCTION price_band(amount numeric) RETURNS text LANGUAGE sql IMMUTABLE
            BEGIN ATOMIC
                SELECT CASE WHEN amount >= 100 THEN 'high' WHEN amount >= 10 THEN 'mid' ELSE 'low' END;
            END;

            CREATE PROCEDURE add_country(code text, name text) LANGUAGE sql
            BEGIN ATOMIC
                INSERT INTO countries (code, name) VALUES (code, name);
                UPDATE countries SET name = upper(name) WHERE countries.code = add_country.code;
            END;

            CREATE TABLE price_bands (amount numeric PRIMARY KEY, band text NOT NULL);
            INSERT INTO price_bands SELECT a, price_band(a) FROM (VALUES (5), (50), (500)) v (a);

            """);
        return folder;
    }

    /// <summary>A long history of the kind real projects have (see <see cref="Histories.MigrationHistory"/>), written to a new folder.</summary>
    internal static string MigrationHistoryFolder()
    {
        var folder = Create();
        Histories.MigrationHistory.Write(folder);
        // Unique, as UniqueCopyOfSampleMigrations: each test's template is its own, and one test dropping its template at
        // its end never pulls it from under another test of the same history.
        File.WriteAllText(Path.Combine(folder, "R__zz_unique.sql"), $"-- {Guid.NewGuid():N}\nSELECT 1;\n");
        return folder;
    }

    /// <summary>The repository's migrations folder, found above the test assembly.</summary>
    internal static string SampleMigrations { get; } = FindSample();

    private static string FindSample()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "migrations");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("The sample migrations folder was not found above " + AppContext.BaseDirectory);
    }
}
