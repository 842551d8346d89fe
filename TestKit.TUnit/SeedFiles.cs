using TUnit.Core;

namespace TestKit;

/// <summary>The seed files a test asks for with <see cref="SeedAttribute"/>, on its class and on its method.</summary>
internal static class SeedFiles
{
    /// <summary>The seed files of the test's class, then of its method, in order.</summary>
    internal static IReadOnlyList<string> Of(TestContext context)
    {
        var details = context.Metadata.TestDetails;
        var method = details.ClassType.GetMethods().FirstOrDefault(candidate => candidate.Name == details.MethodName);
        return details.ClassType.GetCustomAttributes(typeof(SeedAttribute), inherit: true)
            .Concat(method?.GetCustomAttributes(typeof(SeedAttribute), inherit: true) ?? [])
            .Cast<SeedAttribute>()
            .SelectMany(attribute => attribute.Files)
            .ToList();
    }
}
