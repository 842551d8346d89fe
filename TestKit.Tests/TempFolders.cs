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
