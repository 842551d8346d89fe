using System.Security.Cryptography;
using System.Text;

namespace TestKit.Isolation.Reset;

/// <summary>
/// The login a test of the reset strategy connects with: a role of its own per database, whose password changes at
/// every release, so that a connection string a test kept past its end no longer gets in.
/// </summary>
internal static class LeaseCredentials
{
    /// <summary>A new random password: 32 hex digits, nothing SASLprep would change.</summary>
    internal static string NewPassword() => RandomNumberGenerator.GetHexString(32, lowercase: true);

    /// <summary>
    /// The SCRAM-SHA-256 verifier PostgreSQL stores for <paramref name="password"/> (RFC 5802/7677, 4096 iterations, as
    /// PostgreSQL's own). Sent instead of the password, so that the password never shows in a server's statement log.
    /// </summary>
    internal static string ScramVerifier(string password, byte[]? salt = null)
    {
        const int Iterations = 4096;
        salt ??= RandomNumberGenerator.GetBytes(16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, 32);
        var storedKey = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${Iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }
}
