namespace TestKit.Tests;

/// <summary>
/// TestKit's own tests run in verification mode (TESTKIT_VERIFY_HEAD): every database a strategy brings to head is compared
/// with head by the full state digest, under every strategy, so that a gap in any strategy fails the test that found it.
/// </summary>
public static class VerifyHead
{
    [Before(TestSession)]
    public static void TurnOn()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(OptionsResolver.VerifyHeadVariable)))
        {
            Environment.SetEnvironmentVariable(OptionsResolver.VerifyHeadVariable, "1");
        }
    }
}
