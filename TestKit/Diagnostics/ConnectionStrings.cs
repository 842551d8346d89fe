using Npgsql;

namespace TestKit.Diagnostics;

/// <summary>Connection-string helpers that keep passwords out of messages and output.</summary>
internal static class ConnectionStrings
{
    /// <summary>The connection string with any password replaced by a mask; a fixed text when it cannot be parsed.</summary>
    internal static string Mask(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return "(empty connection string)";
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // A string that does not parse cannot be masked key by key, so none of it is shown.
            return "(malformed connection string, not shown)";
        }

        return Mask(builder);
    }

    /// <summary>The builder's connection string with any password replaced by a mask; the builder is not changed.</summary>
    internal static string Mask(NpgsqlConnectionStringBuilder builder)
    {
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        if (!string.IsNullOrEmpty(copy.Password))
        {
            copy.Password = "********";
        }

        return copy.ConnectionString;
    }
}
