using System.Security.Cryptography;
using System.Text;

namespace TestKit.Server;

/// <summary>SHA-256 of a text, for the names and keys the kit derives from what they stand for (templates, locks, caches).</summary>
internal static class Hashes
{
    internal static byte[] Sha256(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    /// <summary>The hash in lower-case hexadecimal.</summary>
    internal static string Hex(string text) => Convert.ToHexStringLower(Sha256(text));
}
