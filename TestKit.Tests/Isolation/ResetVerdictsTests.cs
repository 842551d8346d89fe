namespace TestKit.Tests;

/// <summary>The reset function's answer codes, mapped to verdicts: which prove head, and what the others say in a test's output.</summary>
public sealed class ResetVerdictsTests
{
    [Test]
    [Arguments("reset", true)]
    [Arguments("reset-ended-all", true)]
    [Arguments("session-outlived", false)]
    [Arguments("prepared-transaction", false)]
    [Arguments("schema-changed", false)]
    [Arguments("tracking-disabled", false)]
    [Arguments("settings-changed", false)]
    [Arguments("database-altered", false)]
    [Arguments("large-objects", false)]
    [Arguments("new-table", false)]
    public async Task Each_code_maps_to_its_verdict(string code, bool head)
    {
        var verdict = ResetVerdict.Parse(code);
        await Assert.That(verdict.Code).IsEqualTo(code);
        await Assert.That(verdict.IsHead).IsEqualTo(head);
        if (!head)
        {
            await Assert.That(verdict.Describe("CREATE TABLE")).DoesNotContain("reset to head");
        }
    }

    [Test]
    public async Task A_schema_change_names_its_first_command_and_the_kits_own_verdict_is_no_code_of_the_functions()
    {
        await Assert.That(ResetVerdict.Parse("schema-changed").Describe("ALTER TABLE")).IsEqualTo("the test changed the schema (ALTER TABLE)");
        await Assert.That(ResetVerdict.KitSessionEnded.IsHead).IsFalse();
        await Assert.That(() => ResetVerdict.Parse(ResetVerdict.KitSessionEnded.Code)).Throws<TestKitException>();
    }

    [Test]
    public async Task Every_code_the_reset_function_can_answer_is_known()
    {
        // The codes are the literals the function sets its verdict to: "verdict := 'x'", or a CASE's "THEN 'x'" / "ELSE 'x'".
        var sql = Sql.Resource("ResetTracking.sql");
        var codes = System.Text.RegularExpressions.Regex.Matches(sql, "(?:verdict :=|THEN|ELSE) '([a-z][a-z-]*)'").Select(match => match.Groups[1].Value).Distinct().ToList();

        await Assert.That(codes.Count).IsEqualTo(10);
        foreach (var code in codes)
        {
            await Assert.That(() => ResetVerdict.Parse(code)).ThrowsNothing();
        }
    }

    [Test]
    public async Task An_unknown_code_is_the_kit_at_odds_with_its_own_SQL() =>
        await Assert.That(() => ResetVerdict.Parse("no-such-verdict")).Throws<TestKitException>();
}
