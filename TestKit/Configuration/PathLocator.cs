namespace TestKit.Configuration;

/// <summary>
/// Finds the folders and files options name: an absolute path as given, a relative one in a search root (the test
/// assembly's folder, then the current directory) or any folder above it. A path that is nowhere is an error that says
/// where it looked.
/// </summary>
internal static class PathLocator
{
    /// <summary>The roots used outside tests: the test assembly's folder, then the current directory.</summary>
    internal static IReadOnlyList<string> DefaultSearchRoots() => [AppContext.BaseDirectory, Directory.GetCurrentDirectory()];

    /// <summary>An absolute path as given, or a relative one found in a search root or one of its ancestors.</summary>
    internal static string Locate(string folder, string origin, IReadOnlyList<string> searchRoots, bool isFile = false)
    {
        bool Exists(string path) => isFile ? File.Exists(path) : Directory.Exists(path);

        if (Path.IsPathRooted(folder))
        {
            return Exists(folder)
                ? Path.GetFullPath(folder)
                : throw Missing(folder, origin, [], isFile);
        }

        foreach (var root in searchRoots)
        {
            for (var directory = new DirectoryInfo(root); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, folder);
                if (Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }

        throw Missing(folder, origin, searchRoots, isFile);
    }

    private static TestKitException Missing(string folder, string origin, IReadOnlyList<string> searchRoots, bool isFile)
    {
        var searched = searchRoots.Count == 0 ? string.Empty : $" (looked in {string.Join(", ", searchRoots)} and every folder above them)";
        if (isFile)
        {
            return new TestKitException($"Seed file '{folder}' from {origin} does not exist{searched}. Create it, or correct the path.");
        }

        return new TestKitException(
            $"Migrations folder '{folder}' from {origin} does not exist{searched}. " +
            $"Create it, or point {OptionsResolver.MigrationsVariable} or TestKitOptions.MigrationFolders at the folder that holds your V1__*.sql scripts.");
    }
}
