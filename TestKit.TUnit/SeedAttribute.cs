using TUnit.Core;

namespace TestKit;

/// <summary>
/// Seed SQL files applied on top of the migrated head for the tests of a class or for one test, after any
/// <see cref="TestKitOptions.SeedFiles"/>: each test starts from exactly "head + its seed". Seeded states are
/// cached like the template, so a seed costs once per run, not once per test, with the template and reset strategies.
/// </summary>
/// <example>
/// <code>
/// [Seed("seeds/two_customers.sql")]
/// public sealed class InvoiceTests : DatabaseTest { ... }
/// </code>
/// </example>
/// <param name="files">SQL files, absolute or looked up upwards from the test assembly's folder.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true, Inherited = true)]
public sealed class SeedAttribute(params string[] files) : Attribute
{
    /// <summary>The seed files, in the order they are applied.</summary>
    public IReadOnlyList<string> Files { get; } = files;

    /// <summary>The seed files a test asks for: those of its class, then of its method, in order.</summary>
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
