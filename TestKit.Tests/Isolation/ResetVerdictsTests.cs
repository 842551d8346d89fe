namespace TestKit.Tests;

/// <summary>The reset function's answer codes, mapped to verdicts: which prove head, and what the others say in a test's output.</summary>
public sealed class ResetVerdictsTests
{
    [Test]
    [Arguments("reset", nameof(ResetVerdict.Reset), true)]
    [Arguments("reset-ended-all", nameof(ResetVerdict.ResetEndingEverySession), true)]
    [Arguments("session-outlived", nameof(ResetVerdict.SessionOutlivedReset), false)]
    [Arguments("prepared-transaction", nameof(ResetVerdict.PreparedTransaction), false)]
    [Arguments("schema-changed", nameof(ResetVerdict.SchemaChanged), false)]
    [Arguments("tracking-disabled", nameof(ResetVerdict.TrackingDisabled), false)]
    [Arguments("settings-changed", nameof(ResetVerdict.SettingsChanged), false)]
    [Arguments("database-altered", nameof(ResetVerdict.DatabaseAltered), false)]
    [Arguments("large-objects", nameof(ResetVerdict.LargeObjectsChanged), false)]
    [Arguments("new-table", nameof(ResetVerdict.NewTableWritten), false)]
    public async Task Each_code_maps_to_its_verdict(string code, string verdictName, bool head)
    {
        var verdict = Enum.Parse<ResetVerdict>(verdictName);
        await Assert.That(ResetVerdicts.Parse(code)).IsEqualTo(verdict);
        await Assert.That(ResetVerdicts.IsHead(verdict)).IsEqualTo(head);
        if (!head)
        {
            await Assert.That(ResetVerdicts.Describe(verdict, "CREATE TABLE")).IsNotEqualTo(ResetVerdicts.Describe(ResetVerdict.Reset, null));
        }
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
            await Assert.That(() => ResetVerdicts.Parse(code)).ThrowsNothing();
        }
    }

    [Test]
    public async Task An_unknown_code_is_the_kit_at_odds_with_its_own_SQL() =>
        await Assert.That(() => ResetVerdicts.Parse("no-such-verdict")).Throws<TestKitException>();
}
