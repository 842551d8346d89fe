using LinqToDB.Data;

namespace TestKit.Tests;

/// <summary>
/// The error policy at the public edge: DatabaseTest's hooks and members and the session's disposal let out only a
/// TestKitException (environment and database), an ArgumentException (the caller's mistake) or an
/// OperationCanceledException — whatever fails beneath them, a server that dies mid-test included. The hooks are driven
/// by hand on a session of the test's own, so that each failure stays inside its test.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class ErrorPolicyTests(IsolationStrategy kind) : KitTest
{
    [Test]
    public async Task Members_used_outside_a_test_say_so_as_a_TestKitException()
    {
        var test = new HookedTest(TestKitOptions.Default) { TestKitSession = new TestKitSession() };
        await Assert.That(() => test.Db).Throws<TestKitException>().WithMessageContaining("only while a test runs");
        await Assert.That(() => test.ConnectionString).Throws<TestKitException>();
        await Assert.That(() => test.DatabaseName).Throws<TestKitException>();
    }

    [Test]
    public async Task A_cancelled_setup_lets_out_an_OperationCanceledException_and_the_teardown_nothing()
    {
        var options = new TestKitOptions { ConnectionString = await SessionServerAsync(), Isolation = kind, MaxDatabases = 1 };
        await using var session = new TestKitSession();
        var test = new HookedTest(options) { TestKitSession = session };
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.That(async () => await test.TestKitSetUpAsync(TestContext.Current!, cancelled.Token)).Throws<OperationCanceledException>();
        await test.TestKitTearDownAsync(TestContext.Current!, CancellationToken.None);
    }

    [Test]
    public async Task A_server_that_dies_mid_test_fails_the_teardown_and_the_session_end_with_TestKitExceptions_only(CancellationToken cancellationToken)
    {
        var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        var folder = await FolderOfAsync(server);
        try
        {
            var options = new TestKitOptions { ConnectionString = server.ConnectionStringFor("postgres").ConnectionString, Isolation = kind, MaxDatabases = 1 };
            var session = new TestKitSession();
            var test = new HookedTest(options) { TestKitSession = session };
            await test.TestKitSetUpAsync(TestContext.Current!, cancellationToken);
            await test.Db.ExecuteAsync("INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");

            // The server goes away as a crash takes it: every session ends, nothing is cleaned.
            var pgCtl = await PgCtl.LocateAsync(KitTest.BinDirectory, cancellationToken);
            await pgCtl.User.RunAsync(pgCtl.Binaries.PgCtl, ["stop", "--pgdata", Path.Combine(folder, "data"), "--mode", "immediate", "--wait"], cancellationToken);

            // Template drops its clone in the background: its teardown has nothing left to fail; the others clean in place.
            if (kind == IsolationStrategy.Template)
            {
                await test.TestKitTearDownAsync(TestContext.Current!, CancellationToken.None);
            }
            else
            {
                var teardown = await Assert.That(async () => await test.TestKitTearDownAsync(TestContext.Current!, CancellationToken.None)).Throws<Exception>();
                await Assert.That(teardown).IsTypeOf<TestKitException>().Because(teardown!.ToString());
            }

            var end = await Assert.That(async () => await session.DisposeAsync()).Throws<Exception>();
            await Assert.That(end).IsTypeOf<TestKitException>().Because(end!.ToString());
        }
        finally
        {
            await server.DisposeAsync();
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private async Task<string> SessionServerAsync() => (await ServerAsync()).ConnectionStringFor("postgres").ConnectionString;
}
