using System.Reflection;

namespace TestKit;

/// <summary>
/// A folder of migration scripts embedded as resources in an assembly, for <see cref="TestKitOptions.EmbeddedMigrations"/>:
/// the resources whose names start with <paramref name="Prefix"/>, each named by the rest of its name
/// (<c>V1__create_customers.sql</c>). TestKit writes them to a folder of their own and uses it like a folder on disk,
/// fingerprint included.
/// </summary>
/// <example>
/// <code>
/// &lt;EmbeddedResource Include="migrations/*.sql" LogicalName="migrations/%(Filename)%(Extension)" /&gt;
/// new TestKitOptions { EmbeddedMigrations = [new(typeof(ShopTest).Assembly, "migrations/")] }
/// </code>
/// </example>
/// <param name="Assembly">The assembly that embeds the scripts.</param>
/// <param name="Prefix">What every script's resource name starts with; the rest is its file name.</param>
public sealed record EmbeddedMigrations(Assembly Assembly, string Prefix);
