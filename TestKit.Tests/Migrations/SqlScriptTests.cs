
namespace TestKit.Tests;

/// <summary>Scripts split the way psql splits them, SQL-standard bodies included.</summary>
public sealed class SqlScriptTests
{
    [Test]
    public async Task Statements_split_at_semicolons_outside_quotes_comments_dollar_bodies_and_parentheses()
    {
        var statements = SqlScript.Split("""
            SELECT 'a;b', "c;d" -- e;f
            ;
            /* g; /* nested; */ h; */ SELECT E'i\';j';
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;
            CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2));
            """);

        await Assert.That(statements.Count).IsEqualTo(4);
        await Assert.That(statements[1].Text).StartsWith("/* g;").And.EndsWith("SELECT E'i\\';j'");
        await Assert.That(statements.Any(statement => statement.HasStandardBody)).IsFalse().Because("a dollar-quoted body is no SQL-standard body");
    }

    [Test]
    public async Task A_standard_body_with_several_statements_and_a_CASE_stays_one_statement()
    {
        var script = """
            CREATE OR REPLACE FUNCTION band(amount numeric) RETURNS text LANGUAGE sql
            BEGIN ATOMIC
                SELECT 1;
                SELECT CASE WHEN amount > 10 THEN 'high' ELSE 'low' END;
            END;
            CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;
            SELECT 1;
            """;

        var statements = SqlScript.Split(script);

        await Assert.That(statements.Count).IsEqualTo(3);
        await Assert.That(statements[0].Text).EndsWith("END");
        await Assert.That(statements[0].HasStandardBody).IsTrue();
        await Assert.That(statements[1].HasStandardBody).IsTrue();
        await Assert.That(statements[2].HasStandardBody).IsFalse();
    }

    [Test]
    public async Task BEGIN_outside_a_routine_definition_is_a_transaction_and_splits_as_usual()
    {
        var statements = SqlScript.Split("BEGIN; UPDATE t SET a = 1; COMMIT;");
        await Assert.That(statements.Select(statement => statement.Text)).IsEquivalentTo(["BEGIN", "UPDATE t SET a = 1", "COMMIT"]);
    }

    [Test]
    public async Task A_line_of_an_error_position_counts_from_the_start_of_its_statement()
    {
        var script = "SELECT 1;\n\nSELECT\n  nope;\n";
        var statements = SqlScript.Split(script);
        await Assert.That(SqlScript.LineOf(script, statements[1], position: 10)).IsEqualTo(4);
    }
}
