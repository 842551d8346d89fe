using CliWrap;
using CliWrap.Buffered;
using TestKit.Diagnostics;

namespace TestKit.Server.Embedded;

/// <summary>
/// Who runs the embedded server's programs, and the kit's one way to run a program as them. initdb and postgres refuse to
/// run as root, so a root process runs them as the unprivileged <c>postgres</c> OS user through <c>runuser</c>; anyone else
/// runs them directly.
/// </summary>
internal sealed record ServerProcessUser(string? UserName)
{
    private const string UnprivilegedUser = "postgres";

    internal static ServerProcessUser Current { get; } = new((string?)null);

    internal bool IsOtherUser => UserName is not null;

    internal static async Task<ServerProcessUser> ChooseAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return Current;
        }

        var probe = await Current.RunAsync("id", ["-u", UnprivilegedUser], cancellationToken).ConfigureAwait(false);
        if (!probe.IsSuccess)
        {
            throw new TestKitException(
                $"This process runs as root, PostgreSQL refuses to run as root, and there is no '{UnprivilegedUser}' OS user to run it as. " +
                $"Create one (useradd --system {UnprivilegedUser}), run the tests as an ordinary user, or set TESTKIT_CONNECTION_STRING to a server you run yourself.");
        }

        return new ServerProcessUser(UnprivilegedUser);
    }

    /// <summary>
    /// Runs <paramref name="program"/> as this user (CliWrap quotes the arguments), its output buffered; the caller judges
    /// its exit code.
    /// </summary>
    internal Task<BufferedCommandResult> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var command = UserName is null
            ? Cli.Wrap(program).WithArguments(arguments)
            : Cli.Wrap("runuser").WithArguments(["-u", UserName, "--", program, .. arguments]);
        return command.WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cancellationToken).Task;
    }

    /// <summary>Gives <paramref name="path"/> (recursively) to this user, when it is another user.</summary>
    internal async Task GiveAsync(string path, CancellationToken cancellationToken)
    {
        if (UserName is null)
        {
            return;
        }

        var result = await Current.RunAsync("chown", ["-R", UserName, path], cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess)
        {
            throw new TestKitException(
                $"TestKit could not give {path} to the '{UserName}' OS user the embedded PostgreSQL runs as (chown exit code {result.ExitCode}): {result.StandardError.Trim()}. " +
                "Run the tests as an ordinary user, or set TESTKIT_CONNECTION_STRING to a server you run yourself.");
        }
    }
}
