using Library;
using Library.Api;
using LinqToDB;

// The library's HTTP API: a minimal ASP.NET Core app on linq2db. Its database is ConnectionStrings:Library.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton(services => new DataOptions().UsePostgreSQL(
    services.GetRequiredService<IConfiguration>().GetConnectionString("Library")
    ?? throw new InvalidOperationException("Set the connection string ConnectionStrings:Library.")));
builder.Services.AddScoped(services => new LibraryDb(services.GetRequiredService<DataOptions>()));
builder.Services.AddScoped(services => new LibraryRepository(services.GetRequiredService<LibraryDb>()));

var app = builder.Build();
app.MapGet("/genres", async (LibraryRepository library, CancellationToken cancellationToken) =>
    (await library.GenresAsync(cancellationToken)).Select(genre => genre.Code));
app.MapPost("/authors", async (NewAuthor author, LibraryRepository library, CancellationToken cancellationToken) =>
    Results.Created((string?)null, new Created(await library.AddAuthorAsync(author.Name, cancellationToken))));
app.MapPost("/books", async (NewBook book, LibraryRepository library, CancellationToken cancellationToken) =>
    Results.Created((string?)null, new Created(await library.AddBookAsync(book.Isbn, book.Title, book.AuthorId, book.Genre, book.PublishedYear, cancellationToken))));
app.MapPost("/members", async (NewMember member, LibraryRepository library, CancellationToken cancellationToken) =>
    Results.Created((string?)null, new Created(await library.AddMemberAsync(member.Name, member.Email, cancellationToken))));
app.MapPost("/loans", async (NewLoan loan, LibraryRepository library, CancellationToken cancellationToken) =>
{
    try
    {
        return Results.Created((string?)null, new Created(await library.LendAsync(loan.BookId, loan.MemberId, loan.BorrowedOn, loan.DueOn, cancellationToken)));
    }
    catch (BookOnLoanException onLoan)
    {
        return Results.Conflict(new Refused(onLoan.Message));
    }
});
app.MapGet("/books/available", async (string? genre, LibraryRepository library, CancellationToken cancellationToken) =>
    (await library.AvailableBooksAsync(genre, cancellationToken)).Select(book => book.Title));
await app.RunAsync();

/// <summary>The app's entry point, public for the tests' <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
