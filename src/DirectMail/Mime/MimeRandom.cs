using System;

namespace DirectMail.Mime;

/// <summary>The random parts of a message: MIME boundaries and the unique part of a Message-ID. Tests replace it to get fixed bytes.</summary>
internal class MimeRandom
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static readonly MimeRandom Shared = new();

    /// <summary>
    /// A boundary: "=_" never appears in quoted-printable or base64 output, and 24 random characters (120 bits) make
    /// a collision with 7-bit or 8-bit text practically impossible (the writer checks that text anyway).
    /// </summary>
    public virtual string CreateBoundary() => "=_" + RandomString(24);

    /// <summary>The unique part of a Message-ID: 26 random characters (130 bits).</summary>
    public virtual string CreateMessageIdLocalPart() => RandomString(26);

    private static string RandomString(int length)
    {
        // Random.Shared (seeded from the operating system) rather than a CSPRNG: these values must be unique and
        // unguessable in practice, not secret, and a system call per message costs more than writing a 10 KB body.
        Span<byte> random = stackalloc byte[32];
        Random.Shared.NextBytes(random[..length]);
        Span<char> chars = stackalloc char[32];
        for (var i = 0; i < length; i++)
        {
            chars[i] = Alphabet[random[i] & 31];
        }

        return new string(chars[..length]);
    }
}
