namespace Library.Api;

/// <summary>POST /authors.</summary>
/// <param name="Name">The author's name.</param>
public sealed record NewAuthor(string Name);

/// <summary>POST /books.</summary>
/// <param name="Isbn">The 13-digit ISBN.</param>
/// <param name="Title">The title.</param>
/// <param name="AuthorId">The author's id.</param>
/// <param name="Genre">A genre code.</param>
/// <param name="PublishedYear">The year of publication.</param>
public sealed record NewBook(string Isbn, string Title, int AuthorId, string Genre, short PublishedYear);

/// <summary>POST /members.</summary>
/// <param name="Name">The member's name.</param>
/// <param name="Email">The member's e-mail address.</param>
public sealed record NewMember(string Name, string Email);

/// <summary>POST /loans.</summary>
/// <param name="BookId">The book lent.</param>
/// <param name="MemberId">Who borrows it.</param>
/// <param name="BorrowedOn">The first day of the loan.</param>
/// <param name="DueOn">The day it is due back.</param>
public sealed record NewLoan(long BookId, long MemberId, DateOnly BorrowedOn, DateOnly DueOn);

/// <summary>What a POST that created something answers: the new id.</summary>
/// <param name="Id">The id the database gave it.</param>
public sealed record Created(long Id);

/// <summary>What a refused request answers.</summary>
/// <param name="Error">Why, in words.</param>
public sealed record Refused(string Error);
