using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using DirectMail.Dkim;

namespace DirectMail.Tests.Mutation;

/// <summary>
/// DKIM canonicalisation without DNS or verifiers (the signer tests that use them are integration tests): the body
/// hasher and the header hash against a reference written from RFC 6376 sections 3.4.1 to 3.4.4 on whole strings,
/// with the input cut into random pieces. Added for the mutants Stryker.NET left alive (README, "Mutation testing");
/// any wrong octet in a canonical form changes the hash, so a receiver's verification would fail.
/// </summary>
public sealed class DkimCanonicalizationMutationTests
{
    /// <summary>RFC 6376 section 3.4.3 and 3.4.4 on the whole body (CRLF line ends).</summary>
    private static string ReferenceBody(string body, bool relaxed)
    {
        var lines = new List<string>(body.Split("\r\n"));
        if (lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1); // the body ended with CRLF: no line after it
        }

        if (relaxed)
        {
            for (var i = 0; i < lines.Count; i++)
            {
                lines[i] = Regex.Replace(lines[i], "[ \t]+", " ").TrimEnd(' ');
            }
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        if (lines.Count == 0)
        {
            return relaxed ? string.Empty : "\r\n";
        }

        return string.Join("\r\n", lines) + "\r\n";
    }

    private static string Hash(string canonical) => Convert.ToBase64String(SHA256.HashData(Encoding.Latin1.GetBytes(canonical)));

    /// <summary>Feeds the body as a message hasher does: each line's content in random pieces, then its line end.</summary>
    private static string Hasher(string body, bool relaxed, Random random)
    {
        using var hasher = new DkimBodyHasher(relaxed ? DkimCanonicalization.Relaxed : DkimCanonicalization.Simple);
        Assert.Equal(relaxed, hasher.IsRelaxed);
        var lines = body.Split("\r\n");
        for (var i = 0; i < lines.Length; i++)
        {
            var bytes = Encoding.Latin1.GetBytes(lines[i]);
            var offset = 0;
            while (offset < bytes.Length)
            {
                var n = Math.Min(bytes.Length - offset, random.Next(1, 8));
                hasher.Content(bytes.AsSpan(offset, n));
                offset += n;
            }

            if (i < lines.Length - 1)
            {
                hasher.LineEnd();
            }
        }

        var hash = new byte[32];
        hasher.Complete(hash);
        return Convert.ToBase64String(hash);
    }

    public static TheoryData<string> Bodies() => new()
    {
        string.Empty,
        "\r\n",
        "\r\n\r\n\r\n",
        "a",
        "a\r\n",
        "a\r\n\r\n\r\n",
        "\r\n\r\na\r\n",
        " \r\n",
        "a \r\n \r\n\t\r\n",
        "a  b\r\n",
        "a \t b\r\n",
        "a\tb\r\n",
        "a\t\tb \r\n",
        "\ta\r\n",
        "  a  \r\n",
        "a b c  d\t\te \t\r\nnext\r\n",
        "x\t\r\ny \r\n",
        "a \tb\r\n",
        "ab \t\r\n",
        "a\t b\r\nc\r\n\r\n",
        "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Body_hashes_equal_the_RFC_reference_for_both_canonicalisations(string body)
    {
        var random = new Random(body.Length * 31);
        foreach (var relaxed in new[] { false, true })
        {
            var expected = Hash(ReferenceBody(body, relaxed));
            for (var round = 0; round < 8; round++)
            {
                Assert.Equal(expected, Hasher(body, relaxed, random));
            }
        }
    }

    [Fact]
    public void The_empty_body_hashes_are_the_RFC_values()
    {
        // RFC 6376 section 3.4.3/3.4.4: simple hashes CRLF, relaxed hashes nothing.
        Assert.Equal("frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", Hasher(string.Empty, relaxed: false, new Random(1)));
        Assert.Equal("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", Hasher(string.Empty, relaxed: true, new Random(1)));
    }

    [Fact]
    public void Random_bodies_of_white_space_and_text_hash_as_the_reference()
    {
        // Stops: any rule of the streaming relaxed form (runs, tabs, trailing white space, pieces ending in white
        // space) differing from the RFC's.
        var random = new Random(20261203);
        const string alphabet = "ab  \t\t.\r\n";
        for (var i = 0; i < 400; i++)
        {
            var text = new StringBuilder();
            var length = random.Next(0, 40);
            for (var j = 0; j < length; j++)
            {
                var c = alphabet[random.Next(alphabet.Length)];
                text.Append(c == '\r' || c == '\n' ? "\r\n" : c.ToString());
            }

            var body = text.ToString();
            Assert.Equal(Hash(ReferenceBody(body, false)), Hasher(body, false, random));
            Assert.Equal(Hash(ReferenceBody(body, true)), Hasher(body, true, random));
        }
    }

    [Theory]
    [InlineData(100)]
    [InlineData(16 * 1024 - 1)]
    [InlineData(16 * 1024)]
    [InlineData(16 * 1024 + 1)]
    [InlineData(50_000)]
    public void Large_bodies_across_the_staging_buffer_hash_as_the_reference(int lineLength)
    {
        // Stops: octets lost or repeated where the 16 KB staging buffer fills or a large run bypasses it.
        var random = new Random(lineLength);
        var builder = new StringBuilder();
        for (var i = 0; i < 5; i++)
        {
            for (var j = 0; j < lineLength; j++)
            {
                builder.Append((char)('a' + random.Next(26)));
            }

            builder.Append(i % 2 == 0 ? " \r\n" : "\r\n");
        }

        var body = builder.ToString();
        foreach (var relaxed in new[] { false, true })
        {
            using var hasher = new DkimBodyHasher(relaxed ? DkimCanonicalization.Relaxed : DkimCanonicalization.Simple);
            hasher.Content("x"u8); // something staged before the large runs
            hasher.LineEnd();
            foreach (var line in body.Split("\r\n"))
            {
                if (line.Length > 0)
                {
                    hasher.Content(Encoding.ASCII.GetBytes(line));
                    hasher.LineEnd();
                }
            }

            var hash = new byte[32];
            hasher.Complete(hash);
            Assert.Equal(Hash(ReferenceBody("x\r\n" + body, relaxed)), Convert.ToBase64String(hash));
        }
    }

    [Fact]
    public void Disposing_twice_is_harmless()
    {
        var hasher = new DkimBodyHasher(DkimCanonicalization.Relaxed);
        hasher.Dispose();
        hasher.Dispose();
    }

    [Fact]
    public void A_line_end_after_content_that_fills_the_staging_buffer_exactly_is_hashed()
    {
        // Stops: the staged octets not handed to the hash when a single octet (a line end) comes with the 16 KB staging
        // buffer exactly full (Stryker.NET found that path uncovered).
        var random = new Random(7);
        var rest = new byte[(16 * 1024) - 1];
        for (var i = 0; i < rest.Length; i++)
        {
            rest[i] = (byte)('a' + random.Next(26));
        }

        foreach (var relaxed in new[] { false, true })
        {
            using var hasher = new DkimBodyHasher(relaxed ? DkimCanonicalization.Relaxed : DkimCanonicalization.Simple);
            hasher.Content("x"u8);
            hasher.Content(rest); // 1 + 16383: the buffer is full, not yet hashed
            hasher.LineEnd();
            hasher.Content("y"u8); // the pending CRLF goes out one octet at a time
            hasher.LineEnd();

            var hash = new byte[32];
            hasher.Complete(hash);
            Assert.Equal(Hash(ReferenceBody("x" + Encoding.ASCII.GetString(rest) + "\r\ny\r\n", relaxed)), Convert.ToBase64String(hash));
        }
    }
}
