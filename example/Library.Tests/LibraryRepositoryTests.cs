using LinqToDB;
using LinqToDB.Async;
using TestKit;

namespace Library.Tests;

// Each test gets its own database, migrated to head from example/migrations (the nearest folder named
// `migrations` above the test assembly), and erased after it. Db is the library's own LibraryDb.
public sealed class LibraryRepositoryTests : DatabaseTest<LibraryDb>
{
    private static readonly DateOnly Monday = new(2026, 3, 2);

    [Test]
    public async Task Every_test_starts_with_the_genres_and_no_books()
    {
        var repository = new LibraryRepository(Db);

        var genres = await repository.GenresAsync();

        await Assert.That(genres.Select(genre => genre.Code)).IsEquivalentTo(["children", "fiction", "history", "science"]);
        await Assert.That(await Db.Books.CountAsync()).IsEqualTo(0);
        await repository.AddBookAsync("9780000000001", "Left behind on purpose", await repository.AddAuthorAsync("Ann Author"), "fiction", 2001);
    }

    [Test]
    public async Task A_lent_book_is_off_the_shelf_until_it_is_returned()
    {
        var repository = new LibraryRepository(Db);
        var author = await repository.AddAuthorAsync("Ursula K. Le Guin");
        var book = await repository.AddBookAsync("9780441478125", "The Left Hand of Darkness", author, "fiction", 1969);
        var member = await repository.AddMemberAsync("Bea", "bea@example.com");

        var loan = await repository.LendAsync(book, member, Monday, Monday.AddDays(21));
        await Assert.That(await repository.AvailableBooksAsync()).IsEmpty();

        await repository.ReturnAsync(loan, Monday.AddDays(7));
        await Assert.That((await repository.AvailableBooksAsync()).Select(available => available.Title)).IsEquivalentTo(["The Left Hand of Darkness"]);
    }

    [Test]
    public async Task A_book_out_on_loan_cannot_be_lent_to_a_second_member()
    {
        var repository = new LibraryRepository(Db);
        var book = await repository.AddBookAsync("9780140449136", "The Histories", await repository.AddAuthorAsync("Herodotus"), "history", 1954);
        await repository.LendAsync(book, await repository.AddMemberAsync("Cem", "cem@example.com"), Monday, Monday.AddDays(14));
        var second = await repository.AddMemberAsync("Dan", "dan@example.com");

        var refused = await Assert.That(() => repository.LendAsync(book, second, Monday.AddDays(1), Monday.AddDays(15))).Throws<BookOnLoanException>();

        await Assert.That(refused!.Message).Contains("out on loan");
        await Assert.That(refused.BookId).IsEqualTo(book);
    }

    [Test]
    public async Task Only_open_loans_past_their_due_day_are_overdue()
    {
        var repository = new LibraryRepository(Db);
        var author = await repository.AddAuthorAsync("Carl Sagan");
        var cosmos = await repository.AddBookAsync("9780345539434", "Cosmos", author, "science", 1980);
        var contact = await repository.AddBookAsync("9781501197987", "Contact", author, "fiction", 1985);
        var dot = await repository.AddBookAsync("9780345376596", "Pale Blue Dot", author, "science", 1994);
        var member = await repository.AddMemberAsync("Eva", "eva@example.com");

        var late = await repository.LendAsync(cosmos, member, Monday, Monday.AddDays(7));
        var returned = await repository.LendAsync(contact, member, Monday, Monday.AddDays(7));
        await repository.ReturnAsync(returned, Monday.AddDays(10));
        await repository.LendAsync(dot, member, Monday, Monday.AddDays(30));

        var overdue = await repository.OverdueLoansAsync(Monday.AddDays(14));

        await Assert.That(overdue.Select(loan => loan.Id)).IsEquivalentTo([late]);
    }

    [Test]
    public async Task The_shelf_can_be_browsed_by_genre_through_a_second_connection_too()
    {
        var repository = new LibraryRepository(Db);
        var author = await repository.AddAuthorAsync("Astrid Lindgren");
        await repository.AddBookAsync("9780670557455", "Pippi Longstocking", author, "children", 1945);
        await repository.AddBookAsync("9789129688313", "The Brothers Lionheart", author, "children", 1973);
        await repository.AddBookAsync("9780140445930", "Meditations", await repository.AddAuthorAsync("Marcus Aurelius"), "history", 1964);

        var children = await repository.AvailableBooksAsync("children");
        await using var second = new LibraryDb(new DataOptions().UsePostgreSQL(ConnectionString));
        var seenBySecond = await new LibraryRepository(second).AvailableBooksAsync("children");

        await Assert.That(children.Select(book => book.Title)).IsEquivalentTo(["Pippi Longstocking", "The Brothers Lionheart"]);
        await Assert.That(seenBySecond.Count).IsEqualTo(2);
    }
}
