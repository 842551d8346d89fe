using Npgsql;

namespace TestKit.Diagnostics;

/// <summary>Connection-string helpers that keep passwords out of messages and output.</summary>
internal static class ConnectionStrings
{
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
