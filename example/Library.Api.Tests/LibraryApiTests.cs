using System.Net;
using System.Net.Http.Json;
using LinqToDB.Async;
using Microsoft.AspNetCore.Mvc.Testing;
using TestKit;

namespace Library.Api.Tests;

// The API as its clients see it: the app in memory (WebApplicationFactory) and an HttpClient, each test on a database
// of its own, leased from TestKit and handed to the app as its ConnectionStrings:Library.
public sealed class LibraryApiTests
{
    private static readonly DateOnly Monday = new(2026, 3, 2);

    private DatabaseLease? _lease;
    private WebApplicationFactory<Program>? _app;

    [ClassDataSource<LibraryDatabases>(Shared = SharedType.PerTestSession)]
    public required LibraryDatabases Databases { get; init; }

    private HttpClient Client { get; set; } = null!;

    [Before(Test)]
    public async Task StartAppAsync()
    {
        _lease = await Databases.LeaseAsync();
        _app = new WebApplicationFactory<Program>()
            .WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Library", _lease.ConnectionString));
        Client = _app.CreateClient();
    }

    [After(Test)]
    public async Task StopAppAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_lease is not null)
        {
            await _lease.DisposeAsync();
        }
    }

    [Test]
    public async Task Each_test_starts_with_the_genres_and_an_empty_shelf()
    {
        await Assert.That(await Client.GetFromJsonAsync<string[]>("/genres")).IsEquivalentTo(["children", "fiction", "history", "science"]);
        await Assert.That(await Client.GetFromJsonAsync<string[]>("/books/available")).IsEmpty();
        await AddBookAsync("9780000000001", "Left behind on purpose", "fiction");
    }

    [Test]
    public async Task A_book_added_over_http_is_on_the_shelf_and_in_the_database()
    {
        await AddBookAsync("9780441478125", "The Left Hand of Darkness", "fiction");

        await Assert.That(await Client.GetFromJsonAsync<string[]>("/books/available?genre=fiction")).IsEquivalentTo(["The Left Hand of Darkness"]);
        await using var db = _lease!.CreateConnection<LibraryDb>();
        await Assert.That(await db.Books.CountAsync()).IsEqualTo(1);
    }

    [Test]
    public async Task Lending_a_book_out_on_loan_is_a_conflict()
    {
        var book = await AddBookAsync("9780140449136", "The Histories", "history");
        var first = await PostAsync("/members", new NewMember("Cem", "cem@example.com"));
        var second = await PostAsync("/members", new NewMember("Dan", "dan@example.com"));
        await PostAsync("/loans", new NewLoan(book, first, Monday, Monday.AddDays(14)));

        var refused = await Client.PostAsJsonAsync("/loans", new NewLoan(book, second, Monday.AddDays(1), Monday.AddDays(15)));

        await Assert.That(refused.StatusCode).IsEqualTo(HttpStatusCode.Conflict);
        await Assert.That((await refused.Content.ReadFromJsonAsync<Refused>())!.Error).Contains("out on loan");
        await Assert.That(await Client.GetFromJsonAsync<string[]>("/books/available")).IsEmpty();
    }

    private async Task<long> AddBookAsync(string isbn, string title, string genre)
    {
        var author = await PostAsync("/authors", new NewAuthor("Author of " + title));
        return await PostAsync("/books", new NewBook(isbn, title, (int)author, genre, 1969));
    }

    private async Task<long> PostAsync<T>(string path, T body)
    {
        using var response = await Client.PostAsJsonAsync(path, body);
        await Assert.That(response.StatusCode).IsEqualTo(HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<Created>())!.Id;
    }
}
