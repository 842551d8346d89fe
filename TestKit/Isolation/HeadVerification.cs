using TestKit.Databases;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// Verification mode (<see cref="TestKitOptions.VerifyHead"/>): the one proof of head for every strategy. Each database a
/// strategy brings to head — a new one, or one a test gave back — is compared by its full <see cref="StateDigest"/> with the
/// first one the strategy brought there; a difference is a <see cref="TestKitException"/> that names what differs.
/// </summary>
/// <param name="rowContents">Rows compared by their contents; false: by their count (see <see cref="StateDigest.TakeAsync"/>).</param>
internal sealed class HeadVerification(bool rowContents = true)
{
    private readonly Lock _sync = new();
    private StateDigest? _head;

    /// <summary>Compares <paramref name="database"/> with head (or takes it as head, the first time).</summary>
    /// <param name="database">The database, at head as far as its strategy knows.</param>
    /// <param name="after">What brought it there, for the message: "after the test that used it", "as created".</param>
    /// <param name="cancellationToken">Cancels the comparison.</param>
    internal async Task VerifyAsync(PooledDatabase database, string after, CancellationToken cancellationToken)
    {
        var digest = await KitConnections.UseAsync(
            database.OpenKitConnectionAsync(cancellationToken), connection => StateDigest.TakeAsync(connection, full: true, cancellationToken, rowContents)).ConfigureAwait(false);

        StateDigest head;
        lock (_sync)
        {
            _head ??= digest;
            head = _head;
        }

        if (digest.DifferenceFrom(head) is { } difference)
        {
            throw new TestKitException(
                $"Verification of head (TESTKIT_VERIFY_HEAD): database '{database.Name}' {after} is not at head. {difference}. " +
                "The strategy did not bring back what the test changed: report it with these lines. The database was replaced.");
        }
    }
}
