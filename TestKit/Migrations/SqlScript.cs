namespace TestKit.Migrations;

/// <summary>
/// Splits a script into statements the way psql does: at semicolons outside quotes, dollar-quoted bodies, comments and
/// parentheses, and outside the <c>BEGIN ATOMIC ... END</c> body of a <c>CREATE [OR REPLACE] FUNCTION|PROCEDURE</c>
/// (an SQL-standard body, PostgreSQL 14+), which Npgsql would split at its inner semicolons. Each statement keeps its
/// offset in the script, so a server error position inside a statement can be turned into a line of the file.
/// </summary>
internal static class SqlScript
{
    /// <summary>One statement: where it starts in the script, its text, and whether it has an SQL-standard body.</summary>
    internal readonly record struct Statement(int Offset, string Text, bool HasStandardBody);

    internal static List<Statement> Split(string script)
    {
        var statements = new List<Statement>();
        var state = new StatementState();
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
                i = AfterBlockComment(script, i);
            }
            else if (c == '\'')
            {
                i = AfterQuoted(script, i, backslashEscapes: i > 0 && script[i - 1] is 'E' or 'e' && !IsWordPart(script, i - 2));
            }
            else if (c == '"')
            {
                i = IndexAfter(script, "\"", i + 1);
            }
            else if (c == '$' && DollarTag(script, i) is { } tag)
            {
                i = IndexAfter(script, tag, i + tag.Length);
            }
            else if (c == '(')
            {
                state.ParenDepth++;
                i++;
            }
            else if (c == ')')
            {
                state.ParenDepth = Math.Max(0, state.ParenDepth - 1);
                i++;
            }
            else if (IsWordStart(c) && !IsWordPart(script, i - 1))
            {
                var end = i;
                while (end < script.Length && IsWordPart(script, end))
                {
                    end++;
                }

                state.See(script.AsSpan(i, end - i));
                i = end;
            }
            else if (c == ';' && state.ParenDepth == 0 && state.BeginDepth == 0)
            {
                Add(statements, script, start, i, state.SawBegin);
                start = ++i;
                state = new StatementState();
            }
            else
            {
                i++;
            }
        }

        Add(statements, script, start, script.Length, state.SawBegin);
        return statements;
    }

    /// <summary>The 1-based line of a 1-based <paramref name="position"/> within <paramref name="statement"/>.</summary>
    internal static int LineOf(string script, Statement statement, int position)
    {
        var offset = Math.Clamp(statement.Offset + position - 1, 0, script.Length);
        return 1 + script.AsSpan(0, offset).Count('\n');
    }

    private static void Add(List<Statement> statements, string script, int start, int end, bool hasStandardBody)
    {
        var text = script[start..end];
        var trimmed = text.TrimStart();
        if (trimmed.Trim().Length > 0)
        {
            statements.Add(new Statement(start + (text.Length - trimmed.Length), trimmed.TrimEnd(), hasStandardBody));
        }
    }

    private static char Next(string script, int i) => i + 1 < script.Length ? script[i + 1] : '\0';

    private static bool IsWordStart(char c) => char.IsLetter(c) || c == '_';

    private static bool IsWordPart(string script, int i) =>
        i >= 0 && i < script.Length && (char.IsLetterOrDigit(script[i]) || script[i] is '_' or '$');

    private static int IndexAfter(string script, string end, int from)
    {
        var found = script.IndexOf(end, from, StringComparison.Ordinal);
        return found < 0 ? script.Length : found + end.Length;
    }

    /// <summary>After a string literal starting at <paramref name="i"/>: '' inside it is a quote; with E'' so is \'.</summary>
    private static int AfterQuoted(string script, int i, bool backslashEscapes)
    {
        for (var j = i + 1; j < script.Length; j++)
        {
            if (backslashEscapes && script[j] == '\\')
            {
                j++;
            }
            else if (script[j] == '\'')
            {
                if (Next(script, j) != '\'')
                {
                    return j + 1;
                }

                j++;
            }
        }

        return script.Length;
    }

    /// <summary>After a block comment starting at <paramref name="i"/>; PostgreSQL's block comments nest.</summary>
    private static int AfterBlockComment(string script, int i)
    {
        var depth = 0;
        for (var j = i; j < script.Length - 1; j++)
        {
            if (script[j] == '/' && script[j + 1] == '*')
            {
                depth++;
                j++;
            }
            else if (script[j] == '*' && script[j + 1] == '/')
            {
                j++;
                if (--depth == 0)
                {
                    return j + 1;
                }
            }
        }

        return script.Length;
    }

    /// <summary>"$$" or "$tag$" starting at <paramref name="i"/>, or null when the dollar sign starts no tag ($1).</summary>
    private static string? DollarTag(string script, int i)
    {
        if (IsWordPart(script, i - 1))
        {
            return null;
        }

        var j = i + 1;
        while (j < script.Length && (char.IsLetterOrDigit(script[j]) || script[j] == '_'))
        {
            j++;
        }

        return j < script.Length && script[j] == '$' && (j == i + 1 || !char.IsAsciiDigit(script[i + 1])) ? script[i..(j + 1)] : null;
    }

    /// <summary>
    /// What psql tracks of a statement to know whether a semicolon ends it (psqlscan.l): parenthesis depth and, in a
    /// statement that starts with CREATE [OR REPLACE] FUNCTION or PROCEDURE, the depth of BEGIN ... END (and CASE ... END
    /// inside it) outside parentheses.
    /// </summary>
    private sealed class StatementState
    {
        private readonly string[] _first = new string[4];
        private int _words;

        internal int ParenDepth { get; set; }

        internal int BeginDepth { get; private set; }

        internal bool SawBegin { get; private set; }

        internal void See(ReadOnlySpan<char> word)
        {
            if (_words < _first.Length)
            {
                _first[_words] = word.ToString().ToLowerInvariant();
            }

            _words++;
            if (!IsRoutineDefinition() || ParenDepth > 0)
            {
                return;
            }

            if (word.Equals("begin", StringComparison.OrdinalIgnoreCase))
            {
                BeginDepth++;
                SawBegin = true;
            }
            else if (word.Equals("case", StringComparison.OrdinalIgnoreCase) && BeginDepth >= 1)
            {
                BeginDepth++;
            }
            else if (word.Equals("end", StringComparison.OrdinalIgnoreCase) && BeginDepth > 0)
            {
                BeginDepth--;
            }
        }

        /// <summary>CREATE FUNCTION, CREATE PROCEDURE, CREATE OR REPLACE FUNCTION or CREATE OR REPLACE PROCEDURE.</summary>
        private bool IsRoutineDefinition() =>
            _first[0] == "create"
            && (_first[1] is "function" or "procedure" || (_first[1] == "or" && _first[2] == "replace" && _first[3] is "function" or "procedure"));
    }
}
