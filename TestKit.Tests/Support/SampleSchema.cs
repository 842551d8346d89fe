using LinqToDB.Mapping;

namespace TestKit.Tests;

[Table("countries")]
public sealed class Country
{
    [Column("code"), PrimaryKey]
    public required string Code { get; init; }

    [Column("name")]
    public required string Name { get; init; }
}

[Table("customers")]
public sealed class Customer
{
    [Column("id"), PrimaryKey, Identity]
    public long Id { get; init; }

    [Column("name")]
    public required string Name { get; init; }

    [Column("email")]
    public required string Email { get; init; }

    [Column("country_code")]
    public required string CountryCode { get; init; }
}
