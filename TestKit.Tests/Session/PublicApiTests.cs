// Locks the public surface of both packages' assemblies (TestKit and TestKit.TUnit), so that every change to it is deliberate.
// The approved surface is Session/PublicApi.approved.txt beside this file, as PublicApiGenerator prints it.
// After a deliberate change, accept the new surface by running the tests with TESTKIT_ACCEPT_PUBLIC_API=1:
//
//     TESTKIT_ACCEPT_PUBLIC_API=1 make test
//     TESTKIT_ACCEPT_PUBLIC_API=1 dotnet run --project TestKit.Tests -- --treenode-filter "/*/*/PublicApiTests/*"
//
// The test then rewrites the approved file instead of comparing; review its diff and commit it with the change.
using System.Text;
using System.Text.RegularExpressions;
using PublicApiGenerator;

namespace TestKit.Tests;

public sealed partial class PublicApiTests
{
    private const string AcceptVariable = "TESTKIT_ACCEPT_PUBLIC_API";
    private const string ApprovedFileName = "PublicApi.approved.txt";
    private const int ContextLines = 2;

    [Test]
    public async Task The_public_api_is_the_approved_one()
    {
        var actual = Normalize(string.Concat(new[] { typeof(TestDatabases).Assembly, typeof(DatabaseTest).Assembly }.Select(assembly =>
            $"// {assembly.GetName().Name}\n" + WithoutHookSourceLocations(
                assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false, TreatRecordsAsClasses = false })) + "\n")));
        var approvedFile = ApprovedFile();

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            await File.WriteAllTextAsync(approvedFile, actual);
            TestContext.Current?.Output.WriteLine($"{AcceptVariable}=1: wrote the public API to {approvedFile}. Review its diff and commit it.");
            return;
        }

        var approved = File.Exists(approvedFile) ? Normalize(await File.ReadAllTextAsync(approvedFile)) : string.Empty;
        if (approved != actual)
        {
            Assert.Fail(
                $"TestKit's public API differs from {approvedFile} ('-' approved, '+' now):\n\n{Diff(approved, actual)}\n"
                + $"If the change is deliberate, accept it: run the tests with {AcceptVariable}=1 "
                + $"(for example `{AcceptVariable}=1 make test`), then review and commit the approved file.");
        }
    }

    [Test]
    public async Task The_diff_shows_only_changed_lines_with_their_context()
    {
        var diff = Diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\nh\n");

        await Assert.That(diff).IsEqualTo("@@ approved line 2, now line 2\n  b\n  c\n- d\n+ D\n  e\n  f\n  g\n+ h\n");
    }

    private static string Normalize(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";

    /// <summary>
    /// TUnit's [Before]/[After] record the caller's file path and line: they differ between clones and move with
    /// every edit of the file, so the snapshot keeps the hook type only.
    /// </summary>
    private static string WithoutHookSourceLocations(string api) => HookSourceLocation().Replace(api, "$1)]");

    [GeneratedRegex(@"(\[TUnit\.Core\.(?:Before|After)(?:Every)?\([^,\]]+), ""[^""]*"", \d+\)\]")]
    private static partial Regex HookSourceLocation();

    /// <summary>The approved file in the source tree (not a copy in bin), so that accepting rewrites the committed file.</summary>
    private static string ApprovedFile()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TestKit.Tests.csproj")))
            {
                return Path.Combine(directory.FullName, "Session", ApprovedFileName);
            }
        }

        throw new InvalidOperationException($"Found no TestKit.Tests.csproj above {AppContext.BaseDirectory}, so no {ApprovedFileName}.");
    }

    /// <summary>A line diff (longest common subsequence): changed lines with <see cref="ContextLines"/> lines around them.</summary>
    private static string Diff(string approved, string actual)
    {
        var before = approved.TrimEnd('\n').Split('\n');
        var after = actual.TrimEnd('\n').Split('\n');
        if (approved.Length == 0)
        {
            before = [];
        }

        // common[i, j]: the length of the longest common subsequence of before[i..] and after[j..].
        var common = new int[before.Length + 1, after.Length + 1];
        for (var i = before.Length - 1; i >= 0; i--)
        {
            for (var j = after.Length - 1; j >= 0; j--)
            {
                common[i, j] = before[i] == after[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var lines = new List<(char Mark, string Text, int Before, int After)>();
        int b = 0, a = 0;
        while (b < before.Length || a < after.Length)
        {
            if (b < before.Length && a < after.Length && before[b] == after[a])
            {
                lines.Add((' ', before[b], b++, a++));
            }
            else if (b < before.Length && (a == after.Length || common[b + 1, a] >= common[b, a + 1]))
            {
                lines.Add(('-', before[b], b++, a));
            }
            else
            {
                lines.Add(('+', after[a], b, a++));
            }
        }

        var output = new StringBuilder();
        var lastShown = -1;
        for (var index = 0; index < lines.Count; index++)
        {
            var first = Math.Max(0, index - ContextLines);
            var last = Math.Min(lines.Count - 1, index + ContextLines);
            if (!lines[first..(last + 1)].Exists(line => line.Mark != ' '))
            {
                continue;
            }

            if (lastShown < 0 || index != lastShown + 1)
            {
                output.Append($"@@ approved line {lines[index].Before + 1}, now line {lines[index].After + 1}\n");
            }

            output.Append($"{lines[index].Mark} {lines[index].Text}\n");
            lastShown = index;
        }

        return output.ToString();
    }
}
