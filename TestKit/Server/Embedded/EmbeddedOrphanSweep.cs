using Microsoft.Extensions.Logging;

namespace TestKit.Server.Embedded;

/// <summary>
/// Stops and removes the embedded servers of runs whose process is gone (killed before they could clean up): a folder
/// whose owner stamp names a dead process and that is not kept. A folder this process cannot judge is left alone; one it
/// cannot remove is logged, and the run goes on.
/// </summary>
internal static class EmbeddedOrphanSweep
{
    internal static async Task RunAsync(PgCtl pgCtl, ILogger logger, CancellationToken cancellationToken)
    {
        foreach (var folder in EmbeddedFolder.All())
        {
            try
            {
                if (!await folder.IsOrphanAsync(cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }

                await pgCtl.StopAsync(folder, cancellationToken).ConfigureAwait(false);
                await folder.DeleteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or TestKitException)
            {
                // Someone else's leftover must not stop this run; say what is left so a person can remove it.
                logger.LogWarning(e, "TestKit could not remove the orphaned embedded server in {Folder}: {Reason}", folder.Root, e.Message);
            }
        }
    }
}
