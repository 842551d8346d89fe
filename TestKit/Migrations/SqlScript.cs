namespace TestKit.Migrations;

/// <summary>
/// Splits a script into statements the way Npgsql does before sending them: at semicolons outside
/// quotes, dollar-quoted bodies and comments. Each statement keeps its offset in the script, so a
/// server error position inside a statement can be turned into a line of the file.
/// </summary>
internal static class SqlScript
{
    internal readonly record struct Statement(int Offset, string Text);

    internal static List<Statement> Split(string script)
    {
        var statements = new List<Statement>();
        var start = 0;
        var i = 0;
        while (i < script.Length)
        {
            var c = script[i];
            if (c == '-' && Next(script, i) == '-')
            {
                i = IndexAfter(script, "\n", i + 2);
            }
            else if (c == '/' && Next(script, i) == '*')
            {
                i = IndexAfter(script, "*/", i + 2);
            }
            else if (c is '\'' or '"')
            {
                i = IndexAfter(script, c.ToString(), i + 1);
            }
            else if (c == '$' && DollarTag(script, i) is { } tag)
            {
                i = IndexAfter(script, tag, i + tag.Length);
            }
            else if (c == ';')
            {
                Add(statements, script, start, i);
                start = ++i;
            }
            else
            {
                i++;
            }
        }

        Add(statements, script, start, script.Length);
        return statements;
    }

    /// <summary>The 1-based line of a 1-based <paramref name="position"/> within <paramref name="statement"/>.</summary>
    internal static int LineOf(string script, Statement statement, int position)
    {
        var offset = Math.Clamp(statement.Offset + position - 1, 0, script.Length);
        return 1 + script.AsSpan(0, offset).Count('\n');
    }

    private static void Add(List<Statement> statements, string script, int start, int end)
    {
        var text = script[start..end];
        var trimmed = text.TrimStart();
        if (trimmed.Trim().Length > 0)
        {
            statements.Add(new Statement(start + (text.Length - trimmed.Length), trimmed.TrimEnd()));
        }
    }

    private static char Next(string script, int i) => i + 1 < script.Length ? script[i + 1] : '\0';

    private static int IndexAfter(string script, string end, int from)
    {
        var found = script.IndexOf(end, from, StringComparison.Ordinal);
        return found < 0 ? script.Length : found + end.Length;
    }

    /// <summary>"$$" or "$tag$" starting at <paramref name="i"/>, or null when the dollar sign starts no tag ($1).</summary>
    private static string? DollarTag(string script, int i)
    {
        var j = i + 1;
        while (j < script.Length && (char.IsLetterOrDigit(script[j]) || script[j] == '_'))
        {
            j++;
        }

        return j < script.Length && script[j] == '$' && (j == i + 1 || !char.IsAsciiDigit(script[i + 1])) ? script[i..(j + 1)] : null;
    }
}
