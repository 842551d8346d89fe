namespace TestKit.Server;

/// <summary>
/// Every deadline and polling interval of the kit, in one place, each with its reason. None is an option: each bounds a
/// wait that ends long before it in a healthy run, and only turns a hang into an error that names it.
/// </summary>
internal static class Limits
{
    /// <summary>An embedded server's start, pg_ctl's wait included (its initdb is not: a cached cluster is copied).</summary>
    internal static readonly TimeSpan ServerStart = TimeSpan.FromSeconds(60);

    /// <summary>pg_ctl stop at process exit, where nothing waits on it but the exit itself.</summary>
    internal static readonly TimeSpan ServerStopAtExit = TimeSpan.FromSeconds(30);

    /// <summary>Another run's build of the same template: a large history takes minutes to migrate.</summary>
    internal static readonly TimeSpan OtherTemplateBuild = TimeSpan.FromMinutes(10);

    /// <summary>Ending a database's sessions and renaming it, while clients keep connecting or a prepared transaction holds it.</summary>
    internal static readonly TimeSpan RenameWhileInUse = TimeSpan.FromSeconds(30);

    /// <summary>A test's teardown, which must finish even when the test's own token was cancelled (an unerased database is a leak).</summary>
    internal static readonly TimeSpan Teardown = TimeSpan.FromMinutes(2);

    /// <summary>Deleting an embedded server's folder while another run's sweep deletes it too.</summary>
    internal static readonly TimeSpan FolderDelete = TimeSpan.FromSeconds(1);

    /// <summary>How often a run waiting for a server-wide database slot looks again: other runs free slots without telling it.</summary>
    internal static readonly TimeSpan SlotPoll = TimeSpan.FromMilliseconds(25);

    /// <summary>How long one look at the migration files stands for one (a look costs about 1 ms per 200 scripts).</summary>
    internal static readonly TimeSpan ScriptRecheck = TimeSpan.FromSeconds(1);
}
