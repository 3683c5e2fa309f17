using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using DirectMail.Dkim;
using DirectMail.Smtp;
using static DirectMail.Tests.Dkim.DkimTestSupport;

namespace DirectMail.Tests.Mutation;

/// <summary>
/// The DKIM header hash without DNS or verifiers: a message signed by <see cref="DkimSigner"/> is checked against a
/// reference verifier written here from RFC 6376 (sections 3.4.1 and 3.4.2 for the canonical fields, 3.5 for h=, 3.7
/// for the signature's own field with an empty b=), using RSA with the signer's key. Headers that canonicalisation
/// rewrites (folded values, tab and space runs, space before the colon, upper-case names, trailing white space) and a
/// field that occurs twice (signed bottom up) are in every message; one wrong octet makes the signature fail here as
/// it would at a receiver. Added for the header canonicalisation, which Stryker.NET did not reach before (README,
/// "Mutation testing").
/// </summary>
public sealed class DkimHeaderCanonicalizationMutationTests
{
    private static readonly Lazy<string> KeyPem = new(() =>
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    });

    public static TheoryData<string> Headers() => new()
    {
        "From: Sender <sender@example.test>\r\nTo: rcpt@example.test\r\nSubject: plain\r\n",
        "FROM:Sender <sender@example.test>\r\nTo:   rcpt@example.test  \t \r\nSubject:  folded\r\n \tsubject  with \t runs \r\n",
        "From: sender@example.test\r\nCc \t:  copy@example.test\r\nSubject: x\r\n\tcontinued\r\n  again\r\n",
        "From: sender@example.test\r\nComments: first\r\nTo: rcpt@example.test\r\nComments:  second  one\r\n",
        "From: sender@example.test\r\nSubject:\r\nTo:\t\trcpt@example.test\r\n",
        "From: sender@example.test\r\nSubject: \r\n trailing fold only \r\n",
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public async Task Relaxed_header_canonicalisation_verifies_against_the_reference(string header)
    {
        await AssertVerifiesAsync(header, DkimCanonicalization.Relaxed);
    }

    [Theory]
    [MemberData(nameof(Headers))]
    public async Task Simple_header_canonicalisation_verifies_against_the_reference(string header)
    {
        await AssertVerifiesAsync(header, DkimCanonicalization.Simple);
    }

    [Fact]
    public async Task A_changed_white_space_fails_simple_and_passes_relaxed()
    {
        // The reference is not lenient: simple canonicalisation must notice one more space, relaxed must not.
        foreach (var canonicalization in new[] { DkimCanonicalization.Simple, DkimCanonicalization.Relaxed })
        {
            var wire = await SignAsync("From: sender@example.test\r\nSubject: a b\r\n", canonicalization);
            var changed = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(wire).Replace("Subject: a b", "Subject: a  b", StringComparison.Ordinal));
            Assert.Equal(canonicalization == DkimCanonicalization.Relaxed, Verifies(changed, canonicalization));
        }
    }

    [Fact]
    public async Task The_order_of_a_repeated_field_is_signed_bottom_up()
    {
        foreach (var canonicalization in new[] { DkimCanonicalization.Simple, DkimCanonicalization.Relaxed })
        {
            var wire = await SignAsync("From: sender@example.test\r\nComments: one\r\nComments: two\r\n", canonicalization);
            var swapped = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(wire).Replace("Comments: one\r\nComments: two", "Comments: two\r\nComments: one", StringComparison.Ordinal));
            Assert.True(Verifies(wire, canonicalization));
            Assert.False(Verifies(swapped, canonicalization));
        }
    }

    private static async Task AssertVerifiesAsync(string header, DkimCanonicalization canonicalization)
    {
        var wire = await SignAsync(header, canonicalization);
        Assert.True(Verifies(wire, canonicalization), Encoding.ASCII.GetString(wire));
    }

    private static async Task<byte[]> SignAsync(string header, DkimCanonicalization canonicalization)
    {
        var signer = new DkimSigner(new DkimSignerOptions
        {
            Domain = "example.test",
            Selector = "s1",
            PrivateKey = KeyPem.Value,
            HeaderCanonicalization = canonicalization,
            Headers = ["From", "To", "Subject", "Cc", "Comments"],
        });
        return await WireAsync(signer.Sign(SmtpContent.FromBytes(Encoding.ASCII.GetBytes(header + "\r\nBody.\r\n"))), EightBit);
    }

    /// <summary>RFC 6376 verification of the header hash, on strings: the signature's h= fields, then its own field with an empty b=.</summary>
    private static bool Verifies(byte[] wire, DkimCanonicalization canonicalization)
    {
        var text = Encoding.ASCII.GetString(wire);
        var fields = Fields(text[..(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 2)]);
        var signature = fields.First(f => f.StartsWith("DKIM-Signature:", StringComparison.OrdinalIgnoreCase));
        var tags = Tags(signature);
        Assert.Equal(canonicalization == DkimCanonicalization.Relaxed ? "relaxed/relaxed" : "simple/relaxed", tags["c"]);

        var data = new StringBuilder();
        var used = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in tags["h"].Split(':').Select(n => n.Trim()))
        {
            // RFC 6376 section 5.4.2: each occurrence of a name takes the next field of that name from the bottom up;
            // a name with none left (an over-signed one) contributes nothing.
            var ofName = fields.Where(f => FieldName(f).Equals(name, StringComparison.OrdinalIgnoreCase) && !ReferenceEquals(f, signature)).ToList();
            used.TryGetValue(name, out var count);
            used[name] = count + 1;
            if (count < ofName.Count)
            {
                data.Append(Canonical(ofName[ofName.Count - 1 - count], canonicalization));
            }
        }

        // The signature's own field with its b= value removed, without its final CRLF (RFC 6376 section 3.7).
        var unsigned = Regex.Replace(signature[..^2], @"(?<=[;\s]b=)[^;]*", string.Empty) + "\r\n";
        data.Append(Canonical(unsigned, canonicalization)[..^2]);

        using var rsa = RSA.Create();
        rsa.ImportFromPem(KeyPem.Value);
        var b = Convert.FromBase64String(Regex.Replace(tags["b"], @"\s", string.Empty));
        return rsa.VerifyData(Encoding.ASCII.GetBytes(data.ToString()), b, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    /// <summary>RFC 6376 section 3.4.1 (simple: as it is) and 3.4.2 (relaxed) on one whole field with its CRLF.</summary>
    private static string Canonical(string field, DkimCanonicalization canonicalization)
    {
        if (canonicalization == DkimCanonicalization.Simple)
        {
            return field;
        }

        var colon = field.IndexOf(':', StringComparison.Ordinal);
        var name = field[..colon].TrimEnd(' ', '\t').ToLowerInvariant();
        var value = field[(colon + 1)..].Replace("\r\n", string.Empty, StringComparison.Ordinal);
        value = Regex.Replace(value, "[ \t]+", " ").Trim(' ');
        return name + ":" + value + "\r\n";
    }

    /// <summary>The header's fields, each with its continuation lines and its final CRLF.</summary>
    private static List<string> Fields(string header)
    {
        var fields = new List<string>();
        foreach (var line in header.Split("\r\n")[..^1])
        {
            if (line.Length > 0 && line[0] is ' ' or '\t')
            {
                fields[^1] += line + "\r\n";
            }
            else
            {
                fields.Add(line + "\r\n");
            }
        }

        return fields;
    }

    private static string FieldName(string field) => field[..field.IndexOf(':', StringComparison.Ordinal)].TrimEnd(' ', '\t');

    private static Dictionary<string, string> Tags(string signature)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var value = signature[(signature.IndexOf(':', StringComparison.Ordinal) + 1)..];
        foreach (var tag in value.Split(';'))
        {
            var equals = tag.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                tags[Regex.Replace(tag[..equals], @"\s", string.Empty)] = Regex.Replace(tag[(equals + 1)..], @"\s+", " ").Trim();
            }
        }

        return tags;
    }
}
