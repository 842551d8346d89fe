using LinqToDB.Mapping;

namespace Library;

/// <summary>A shelf of the library (reference table <c>genres</c>, filled by the migrations).</summary>
[Table("genres")]
public sealed class Genre
{
    /// <summary>The short code books refer to, such as <c>fiction</c>.</summary>
    [Column("code"), PrimaryKey]
    public required string Code { get; init; }

    /// <summary>The name on the shelf.</summary>
    [Column("name")]
    public required string Name { get; init; }
}
