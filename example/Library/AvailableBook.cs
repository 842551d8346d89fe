using LinqToDB.Mapping;

namespace Library;

/// <summary>A book on the shelf now, that is with no open loan (view <c>available_books</c>).</summary>
[Table("available_books")]
public sealed class AvailableBook
{
    /// <summary>The book's id.</summary>
    [Column("id")]
    public long Id { get; init; }

    /// <summary>The 13-digit ISBN.</summary>
    [Column("isbn")]
    public required string Isbn { get; init; }

    /// <summary>The title.</summary>
    [Column("title")]
    public required string Title { get; init; }

    /// <summary>The author's name.</summary>
    [Column("author_name")]
    public required string AuthorName { get; init; }

    /// <summary>The book's genre code.</summary>
    [Column("genre_code")]
    public required string GenreCode { get; init; }
}
