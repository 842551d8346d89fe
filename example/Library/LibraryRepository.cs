using LinqToDB;
using LinqToDB.Async;
using Npgsql;

namespace Library;

/// <summary>The library's data access on linq2db: the catalogue, the members and their loans.</summary>
/// <param name="db">The library's connection.</param>
public sealed class LibraryRepository(LibraryDb db)
{
    // The partial unique index of migration V4 that allows one open loan per book.
    private const string OneOpenLoanPerBook = "loans_one_open_loan_per_book";

    /// <summary>The genres the migrations put in, by code.</summary>
    public Task<List<Genre>> GenresAsync(CancellationToken cancellationToken = default) =>
        db.Genres.OrderBy(genre => genre.Code).ToListAsync(cancellationToken);

    /// <summary>Adds an author and returns the id.</summary>
    public Task<int> AddAuthorAsync(string name, CancellationToken cancellationToken = default) =>
        db.InsertWithInt32IdentityAsync(new Author { Name = name }, token: cancellationToken);

    /// <summary>Adds a book to the catalogue and returns the id.</summary>
    public Task<long> AddBookAsync(string isbn, string title, int authorId, string genreCode, short publishedYear, CancellationToken cancellationToken = default) =>
        db.InsertWithInt64IdentityAsync(
            new Book { Isbn = isbn, Title = title, AuthorId = authorId, GenreCode = genreCode, PublishedYear = publishedYear },
            token: cancellationToken);

    /// <summary>Registers a member and returns the id.</summary>
    public Task<long> AddMemberAsync(string name, string email, CancellationToken cancellationToken = default) =>
        db.InsertWithInt64IdentityAsync(new Member { Name = name, Email = email }, token: cancellationToken);

    /// <summary>Lends a book to a member from <paramref name="borrowedOn"/> to <paramref name="dueOn"/> and returns the loan id.</summary>
    /// <exception cref="BookOnLoanException">The book is out on another loan.</exception>
    public async Task<long> LendAsync(long bookId, long memberId, DateOnly borrowedOn, DateOnly dueOn, CancellationToken cancellationToken = default)
    {
        try
        {
            return await db.InsertWithInt64IdentityAsync(
                new Loan { BookId = bookId, MemberId = memberId, BorrowedOn = borrowedOn, DueOn = dueOn },
                token: cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == OneOpenLoanPerBook)
        {
            throw new BookOnLoanException(bookId, e);
        }
    }

    /// <summary>Closes an open loan.</summary>
    /// <exception cref="InvalidOperationException">There is no open loan with that id.</exception>
    public async Task ReturnAsync(long loanId, DateOnly returnedOn, CancellationToken cancellationToken = default)
    {
        var closed = await db.Loans
            .Where(loan => loan.Id == loanId && loan.ReturnedOn == null)
            .Set(loan => loan.ReturnedOn, returnedOn)
            .UpdateAsync(cancellationToken);
        if (closed == 0)
        {
            throw new InvalidOperationException($"There is no open loan {loanId} to return.");
        }
    }

    /// <summary>The books on the shelf now, by title; only those of one genre when <paramref name="genreCode"/> is given.</summary>
    public Task<List<AvailableBook>> AvailableBooksAsync(string? genreCode = null, CancellationToken cancellationToken = default) =>
        db.AvailableBooks
            .Where(book => genreCode == null || book.GenreCode == genreCode)
            .OrderBy(book => book.Title)
            .ToListAsync(cancellationToken);

    /// <summary>The open loans whose due day is before <paramref name="today"/>, the longest overdue first.</summary>
    public Task<List<Loan>> OverdueLoansAsync(DateOnly today, CancellationToken cancellationToken = default) =>
        db.Loans
            .Where(loan => loan.ReturnedOn == null && loan.DueOn < today)
            .OrderBy(loan => loan.DueOn)
            .ToListAsync(cancellationToken);
}
