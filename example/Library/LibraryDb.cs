using LinqToDB;
using LinqToDB.Data;

namespace Library;

/// <summary>The library's linq2db connection: its tables and view, on the database that <see cref="DataOptions"/> name.</summary>
/// <param name="options">linq2db options: the provider and connection string, a data source, a mapping schema.</param>
public sealed class LibraryDb(DataOptions options) : DataConnection(options)
{
    /// <summary>The authors.</summary>
    public ITable<Author> Authors => this.GetTable<Author>();

    /// <summary>The catalogue.</summary>
    public ITable<Book> Books => this.GetTable<Book>();

    /// <summary>The shelves (reference data).</summary>
    public ITable<Genre> Genres => this.GetTable<Genre>();

    /// <summary>The members.</summary>
    public ITable<Member> Members => this.GetTable<Member>();

    /// <summary>Every loan, open or returned.</summary>
    public ITable<Loan> Loans => this.GetTable<Loan>();

    /// <summary>The books with no open loan.</summary>
    public ITable<AvailableBook> AvailableBooks => this.GetTable<AvailableBook>();
}
