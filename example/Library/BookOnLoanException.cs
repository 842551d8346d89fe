namespace Library;

/// <summary>Thrown when a book is lent while an earlier loan of it is still open.</summary>
public sealed class BookOnLoanException : Exception
{
    /// <summary>Creates the exception for one book.</summary>
    /// <param name="bookId">The book that is out.</param>
    /// <param name="innerException">The database error that reported it.</param>
    public BookOnLoanException(long bookId, Exception? innerException = null)
        : base($"Book {bookId} is out on loan; it can be lent again once it is returned.", innerException) =>
        BookId = bookId;

    /// <summary>The book that is out.</summary>
    public long BookId { get; }
}
