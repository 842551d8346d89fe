
namespace TestKit.Tests;

public sealed class LeaseCredentialsTests
{
    [Test]
    public async Task The_SCRAM_verifier_matches_an_independent_computation()
    {
        // RFC 7677's example password and salt; the keys were computed apart with Python's hashlib (PBKDF2-HMAC-SHA-256,
        // 4096 iterations, StoredKey = SHA-256(HMAC(salted, "Client Key")), ServerKey = HMAC(salted, "Server Key")).
        var verifier = LeaseCredentials.ScramVerifier("pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="));

        await Assert.That(verifier).IsEqualTo(
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
    }

    [Test]
    public async Task Every_password_and_salt_is_new()
    {
        var first = LeaseCredentials.NewPassword();
        var second = LeaseCredentials.NewPassword();

        await Assert.That(first).IsNotEqualTo(second);
        await Assert.That(first.Length).IsEqualTo(32);
        await Assert.That(LeaseCredentials.ScramVerifier(first)).IsNotEqualTo(LeaseCredentials.ScramVerifier(first));
    }
}
