using System.Diagnostics;

namespace TestKit.Tests;

/// <summary>
/// An embedded server's owner stamp: alive while its process runs, dead once it exited, and a process id that was reused
/// (same id, another start) or a stamp from another boot is not the owner. A stamp the kit cannot read is not its to judge.
/// </summary>
public sealed class OwnerStampTests
{
    [Test]
    public async Task A_running_process_is_alive_and_an_exited_one_is_not()
    {
        await Assert.That(OwnerStamp.IsAlive(OwnerStamp.Of(Environment.ProcessId))).IsTrue();

        using var process = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        var stamp = OwnerStamp.Of(process.Id);
        await Assert.That(OwnerStamp.IsAlive(stamp)).IsTrue();
        process.Kill();
        await process.WaitForExitAsync();
        await Assert.That(OwnerStamp.IsAlive(stamp)).IsFalse().Because("the process is gone");
    }

    [Test]
    public async Task The_same_process_id_with_another_start_or_boot_is_not_the_owner()
    {
        var stamp = OwnerStamp.Of(Environment.ProcessId);
        await Assert.That(stamp).StartsWith($"{Environment.ProcessId} linux:");
        var (boot, ticks) = (stamp[(stamp.IndexOf(':') + 1)..stamp.LastIndexOf(':')], long.Parse(stamp[(stamp.LastIndexOf(':') + 1)..]));

        await Assert.That(OwnerStamp.IsAlive(stamp.Replace($":{ticks}", $":{ticks + 1}"))).IsFalse().Because("the id was reused by a later process");
        await Assert.That(OwnerStamp.IsAlive(stamp.Replace(boot, Guid.NewGuid().ToString()))).IsFalse().Because("a stamp from another boot");
    }

    [Test]
    [Arguments("")]
    [Arguments("not a stamp")]
    [Arguments("12x linux:a:1")]
    public async Task A_stamp_that_cannot_be_read_counts_as_alive(string stamp) =>
        await Assert.That(OwnerStamp.IsAlive(stamp)).IsTrue().Because("a folder the kit cannot judge is left alone");
}
