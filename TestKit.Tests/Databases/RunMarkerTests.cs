namespace TestKit.Tests;

/// <summary>The marker a run writes on what it creates: written and read back by the one type that knows its format.</summary>
public sealed class RunMarkerTests
{
    [Test]
    public async Task A_marker_reads_back_as_written()
    {
        var marker = RunMarker.ForThisProcess("0123456789", "build-agent-7");

        var read = RunMarker.Parse(marker.Format());

        await Assert.That(read).IsEqualTo(marker);
        await Assert.That(read!.ProcessId).IsEqualTo(Environment.ProcessId);
        await Assert.That(marker.Name(14)).IsEqualTo("testkit_0123456789_014");
    }

    [Test]
    [Arguments(null)]
    [Arguments("")]
    [Arguments("a comment of the team's own")]
    public async Task A_comment_that_is_no_marker_reads_as_none(string? comment) =>
        await Assert.That(RunMarker.Parse(comment)).IsNull();

    [Test]
    public async Task A_kept_database_carries_no_marker_any_run_would_act_on()
    {
        var marker = RunMarker.ForThisProcess("0123456789", "here");

        await Assert.That(RunMarker.Parse(marker.FormatKept())).IsNull();
    }

    [Test]
    public async Task A_marker_from_another_host_without_a_process_reads_as_such()
    {
        var read = RunMarker.Parse("testkit:run=abcdefabcd;pid=;host=elsewhere;a-field-of-a-later-version=1");

        await Assert.That(read).IsEqualTo(new RunMarker("abcdefabcd", ProcessId: null, Host: "elsewhere"));
    }

    [Test]
    public async Task An_unmarked_database_named_like_a_run_belongs_to_that_run()
    {
        const string name = "testkit_abcdefabcd_016";

        await Assert.That(System.Text.RegularExpressions.Regex.IsMatch(name, RunMarker.NamePattern)).IsTrue();
        await Assert.That(RunMarker.OfUnmarked(name)).IsEqualTo(new RunMarker("abcdefabcd", ProcessId: null, Host: null));
        await Assert.That(System.Text.RegularExpressions.Regex.IsMatch("testkit_template_abc", RunMarker.NamePattern)).IsFalse();
    }
}
