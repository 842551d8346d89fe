using TUnit.Core;

namespace TestKit;

/// <summary>The seed files a test asks for with <see cref="SeedAttribute"/>, on its class and on its method.</summary>
internal static class SeedFiles
{
    /// <summary>The options with the seed files of the test's class and method appended.</summary>
    internal static TestKitOptions AddTo(TestKitOptions options, TestContext context)
    {
        var details = context.Metadata.TestDetails;
        var method = details.ClassType.GetMethods().FirstOrDefault(candidate => candidate.Name == details.MethodName);
        var files = details.ClassType.GetCustomAttributes(typeof(SeedAttribute), inherit: true)
            .Concat(method?.GetCustomAttributes(typeof(SeedAttribute), inherit: true) ?? [])
            .Cast<SeedAttribute>()
            .SelectMany(attribute => attribute.Files)
            .ToList();
        return files.Count == 0 ? options : options with { SeedFiles = [.. options.SeedFiles ?? [], .. files] };
    }
}
