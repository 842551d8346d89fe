using LinqToDB;
using LinqToDB.Async;
using Xunit;

namespace Library.XunitTests;

// Each test leases its own database at head from the assembly's LibraryDatabases and gives it back by disposing the
// lease; the next test that gets that database sees head again.
public sealed class LibraryRepositoryTests(LibraryDatabases databases)
{
    private static readonly DateOnly Monday = new(2026, 3, 2);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_leased_database_is_at_head_and_the_next_lease_does_not_see_this_one()
    {
        for (var round = 0; round < 3; round++)
        {
            await using var lease = await databases.LeaseAsync();
            await using var db = lease.CreateConnection<LibraryDb>();
            var repository = new LibraryRepository(db);

            Assert.Equal(["children", "fiction", "history", "science"], (await repository.GenresAsync(Cancel)).Select(genre => genre.Code).Order());
            Assert.Equal(0, await db.Books.CountAsync(Cancel));
            await repository.AddBookAsync("9780000000001", "Left behind on purpose", await repository.AddAuthorAsync("Ann Author", Cancel), "fiction", 2001, Cancel);
        }
    }

    [Fact]
    public async Task A_lent_book_is_off_the_shelf_until_it_is_returned()
    {
        await using var lease = await databases.LeaseAsync();
        await using var db = lease.CreateConnection<LibraryDb>();
        var repository = new LibraryRepository(db);
        var book = await repository.AddBookAsync("9780441478125", "The Left Hand of Darkness", await repository.AddAuthorAsync("Ursula K. Le Guin", Cancel), "fiction", 1969, Cancel);
        var loan = await repository.LendAsync(book, await repository.AddMemberAsync("Bea", "bea@example.com", Cancel), Monday, Monday.AddDays(21), Cancel);

        Assert.Empty(await repository.AvailableBooksAsync(cancellationToken: Cancel));
        await repository.ReturnAsync(loan, Monday.AddDays(7), Cancel);
        Assert.Equal(["The Left Hand of Darkness"], (await repository.AvailableBooksAsync(cancellationToken: Cancel)).Select(available => available.Title));
    }

    [Fact]
    public void The_test_output_holds_no_TUnit_assembly()
    {
        Assert.Empty(Directory.GetFiles(AppContext.BaseDirectory, "TUnit*.dll"));
        Assert.Contains(AppDomain.CurrentDomain.GetAssemblies(), assembly => assembly.GetName().Name == "TestKit");
    }
}
