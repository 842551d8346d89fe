using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace TestKit.Migrations;

/// <summary>
/// The connection Evolve migrates through: the kit's <see cref="NpgsqlConnection"/>, whose commands send a script with an
/// SQL-standard function body (<c>BEGIN ATOMIC ... END</c>, which Npgsql would split at its inner semicolons) statement
/// by statement, split as psql splits it (see <see cref="StandardBodyCommand"/>). Everything else goes to Npgsql as is.
/// The wrapper owns nothing: the kit opens and closes the inner connection.
/// </summary>
internal sealed class StandardBodyConnection(NpgsqlConnection inner) : DbConnection
{
    internal NpgsqlConnection Inner { get; } = inner;

    [AllowNull]
    public override string ConnectionString
    {
        get => Inner.ConnectionString;
        set => Inner.ConnectionString = value;
    }

    public override string Database => Inner.Database;

    public override string DataSource => Inner.DataSource;

    public override string ServerVersion => Inner.ServerVersion;

    public override ConnectionState State => Inner.State;

    public override void ChangeDatabase(string databaseName) => Inner.ChangeDatabase(databaseName);

    public override void Close() => Inner.Close();

    public override void Open() => Inner.Open();

    public override void EnlistTransaction(System.Transactions.Transaction? transaction) => Inner.EnlistTransaction(transaction);

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => Inner.BeginTransaction(isolationLevel);

    protected override DbCommand CreateDbCommand() => new StandardBodyCommand(null, Inner);
}
