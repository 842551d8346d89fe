namespace TestKit.Tests;

/// <summary>
/// A template's identity without a server: the name follows every input of the fingerprint (script contents, server
/// version), the lineage stays across edits, and its markers are read back as this template's, ready or not.
/// </summary>
public sealed class TemplateIdentityTests
{
    private readonly string _folder = TempFolders.Create();

    [After(Test)]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task An_edited_script_or_another_server_gives_another_template_of_the_same_lineage()
    {
        var script = Path.Combine(_folder, "V1__customers.sql");
        File.WriteAllText(script, "CREATE TABLE customers (id int);");
        var head = TemplateIdentity.Of(MigrationSet.Load([_folder]), "15.18");

        await Assert.That(TemplateIdentity.Of(MigrationSet.Load([_folder]), "15.18")).IsEqualTo(head).Because("the same inputs name the same template");
        await Assert.That(TemplateIdentity.Of(MigrationSet.Load([_folder]), "15.18").Name).IsEqualTo(head.Name);
        await Assert.That(head.Name).Matches("^testkit_template_[0-9a-f]{24}$");

        var otherServer = TemplateIdentity.Of(MigrationSet.Load([_folder]), "17.6");
        File.WriteAllText(script, "CREATE TABLE customers (id bigint);");
        var edited = TemplateIdentity.Of(MigrationSet.Load([_folder]), "15.18");
        var placeholders = TemplateIdentity.Of(MigrationSet.Load([_folder], placeholders: [new("owner", "app")]), "15.18");

        await Assert.That(new[] { otherServer.Name, edited.Name, placeholders.Name }.Distinct().Count()).IsEqualTo(3);
        await Assert.That(new[] { otherServer.Name, edited.Name, placeholders.Name }).DoesNotContain(head.Name);
        await Assert.That(otherServer.Lineage).IsEqualTo(head.Lineage);
        await Assert.That(edited.Lineage).IsEqualTo(head.Lineage).Because("an edit makes a newer template that replaces the older one");
        await Assert.That(placeholders.Lineage).IsNotEqualTo(head.Lineage).Because("a placeholder name is part of what the template is for");
    }

    [Test]
    public async Task Its_markers_are_read_back_as_its_own_ready_or_building()
    {
        File.WriteAllText(Path.Combine(_folder, "V1__customers.sql"), "CREATE TABLE customers (id int);");
        var identity = TemplateIdentity.Of(MigrationSet.Load([_folder]), "15.18");
        var other = identity with { Fingerprint = new string('0', 24) };

        await Assert.That(identity.IsReadyMarker(identity.ReadyMarker)).IsTrue();
        await Assert.That(identity.IsReadyMarker(identity.BuildingMarker)).IsFalse().Because("a template being built, or whose builder died, is not ready");
        await Assert.That(identity.IsReadyMarker(other.ReadyMarker)).IsFalse();
        await Assert.That(identity.IsReadyMarker(null)).IsFalse();
        await Assert.That(TemplateIdentity.UseLockOf(identity.ReadyMarker)).IsEqualTo(identity.Lock("use"));
        await Assert.That(TemplateIdentity.UseLockOf(other.BuildingMarker)).IsEqualTo(other.Lock("use"));
        await Assert.That(other.Lock("use")).IsNotEqualTo(identity.Lock("use"));
        await Assert.That(identity.Lock("build")).IsNotEqualTo(identity.Lock("use"));

        // LIKE: '%' is any text.
        var lineage = "^" + System.Text.RegularExpressions.Regex.Escape(identity.LineagePattern).Replace("%", ".*") + "$";
        await Assert.That(identity.ReadyMarker).Matches(lineage);
        await Assert.That(other.BuildingMarker).Matches(lineage).Because("every template of the lineage, whatever its fingerprint or state");
        await Assert.That((identity with { Lineage = "000000000000" }).ReadyMarker).DoesNotMatch(lineage);
    }
}
