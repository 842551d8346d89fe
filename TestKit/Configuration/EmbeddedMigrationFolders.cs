using System.Security.Cryptography;
using System.Text;

namespace TestKit.Configuration;

/// <summary>
/// Writes the scripts of an <see cref="EmbeddedMigrations"/> to a folder of their own, named by a hash of their names and
/// contents: the same resources give the same folder (written once), and the folder then serves like any folder on disk.
/// </summary>
internal static class EmbeddedMigrationFolders
{
    internal static string Extract(EmbeddedMigrations embedded)
    {
        var scripts = embedded.Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(embedded.Prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Select(name => (File: name[embedded.Prefix.Length..], Content: Read(embedded, name)))
            .ToList();
        if (scripts.Count == 0)
        {
            throw new TestKitException(
                $"Assembly {embedded.Assembly.GetName().Name} embeds no .sql resource whose name starts with '{embedded.Prefix}'. " +
                "Embed the scripts (<EmbeddedResource Include=\"migrations/*.sql\" LogicalName=\"migrations/%(Filename)%(Extension)\" />) and name that prefix.");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (file, content) in scripts)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file + "\n"));
            hash.AppendData(content);
        }

        var folder = Path.Combine(Path.GetTempPath(), "testkit-embedded-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..16]);
        if (!Directory.Exists(folder))
        {
            // Written aside and moved in whole: a process that reads the folder never sees it half-written.
            var writing = folder + "-" + RandomNumberGenerator.GetHexString(8, lowercase: true);
            foreach (var (file, content) in scripts)
            {
                var path = Path.Combine(writing, file);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, content);
            }

            try
            {
                Directory.Move(writing, folder);
            }
            catch (IOException) when (Directory.Exists(folder))
            {
                // Another process wrote the same scripts first.
                Directory.Delete(writing, recursive: true);
            }
        }

        return folder;
    }

    private static byte[] Read(EmbeddedMigrations embedded, string name)
    {
        using var stream = embedded.Assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
