using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Dkim;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging.Abstractions;
using static DirectMail.Tests.Dkim.DkimTestSupport;

namespace DirectMail.Tests.Dkim;

/// <summary>
/// Review items 14, 15 and 23: the key is chosen from the From domain a receiver sees (a comment or a second mailbox
/// cannot pick another tenant's key), every signed field allowed at most once is over-signed (a replayed message with
/// an added Reply-To, Subject, To or Content-Type fails), and configured header names are RFC 5322 field names.
/// Checked with dkimpy, libopendkim and MimeKit, each shown to pass the untouched message first.
/// </summary>
[Collection(DkimCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DkimReviewTests(DkimDnsFixture dns)
{
    private const string Body = "Date: Sat, 1 Mar 2025 12:00:00 +0000\r\nMessage-ID: <review@dkim.test>\r\nMIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=utf-8\r\n\r\nPay invoice 42 to the usual account.\r\n";

    // libopendkim refuses a message with a second From, To, Subject or Message-ID outright ("Syntax error", its RFC 5322
    // check) before looking at the signature; for those, dkimpy and MimeKit show the over-signing.
    [Theory]
    [InlineData("Reply-To: Attacker <attacker@evil.test>", "bad signature")] // absent from the message: signed once as absent
    [InlineData("Subject: Urgent: new bank details", "syntax error")]     // present once: signed twice
    [InlineData("To: victim@example.test", "syntax error")]
    [InlineData("Content-Type: text/html; charset=utf-8", "bad signature")]
    [InlineData("Message-ID: <replayed@evil.test>", "syntax error")]
    [InlineData("From: Attacker <ceo@dkim.test>", "syntax error")]
    public async Task A_replayed_message_with_an_added_field_allowed_once_fails_every_verifier(string added, string openDkimReason)
    {
        using var signer = dns.Signer();
        var wire = await WireAsync(signer.Sign(SmtpContent.FromBytes(Encoding.ASCII.GetBytes(
            "From: Sender <sender@dkim.test>\r\nTo: rcpt@example.test\r\nSubject: Invoice\r\n" + Body))), EightBit);

        var h = SignedNames(Signatures(wire).Single());
        Assert.Equal(["from", "from", "reply-to", "to", "to", "subject", "subject", "date", "date", "message-id", "message-id",
            "in-reply-to", "references", "mime-version", "mime-version", "content-type", "content-type",
            "content-transfer-encoding", "content-disposition", "list-id", "list-unsubscribe", "list-unsubscribe-post",
            "sender", "cc"], h.OrderBy(n => Array.IndexOf(Order, n)).ToArray());

        // The verifiers pass the message as signed, and one with a field nobody signs added (relays add such fields).
        await AssertVerifiesAsync(wire);
        await AssertVerifiesAsync(Prepend(wire, "X-Relay: added"));

        var replayed = Prepend(wire, added);
        var python = await DkimVerifiers.DkimpyAsync(replayed);
        Assert.False(python.Passed, "dkimpy passed a replayed message: " + python.Output);
        Assert.Contains("fail a=rsa-sha256 d=dkim.test s=s2048", python.Output, StringComparison.Ordinal); // it ran, found the key, and the signature did not match
        var openDkim = await DkimVerifiers.OpenDkimAsync(replayed, dns);
        Assert.False(openDkim.Passed, "opendkim-testmsg passed a replayed message: " + openDkim.Output);
        Assert.True(openDkim.Output.Contains(openDkimReason, StringComparison.OrdinalIgnoreCase), openDkim.Output);
        var mimeKit = await DkimVerifiers.MimeKitAsync(replayed);
        Assert.False(mimeKit.Passed, "MimeKit passed a replayed message: " + mimeKit.Output);
        Assert.StartsWith("fail ", mimeKit.Output, StringComparison.Ordinal);
    }

    [Theory]
    // The naive reading took the domain in the comment or the last mailbox: victim.test's key (here dkim.test) signed.
    [InlineData("someone@tenant-a.test (<sender@dkim.test>)", "bounces@tenant-a.test", null)]
    [InlineData("someone@tenant-a.test (Sender <sender@dkim.test>)", "bounces@tenant-a.test", null)]
    [InlineData("\"Sender <sender@dkim.test>\" <someone@tenant-a.test>", "bounces@tenant-a.test", null)]
    // Not one mailbox: never signed, not even with the envelope domain's key (other.dkim.test has one).
    [InlineData("someone@tenant-a.test, sender@dkim.test", "bounces@other.dkim.test", null)]
    [InlineData("sender@dkim.test, someone@tenant-a.test", "bounces@other.dkim.test", null)]
    [InlineData("Team: sender@dkim.test;", "bounces@other.dkim.test", null)]
    [InlineData("sender@dkim.test <someone@tenant-a.test>", "bounces@other.dkim.test", null)]
    [InlineData("sender@[127.0.0.1]", "bounces@other.dkim.test", null)]
    [InlineData("sender@dkim.test (unclosed", "bounces@other.dkim.test", null)]
    // One mailbox: its domain's key, whatever the display name or comments say.
    [InlineData("\"ceo@tenant-a.test\" <sender@dkim.test>", "bounces@tenant-a.test", "dkim.test")]
    [InlineData("sender@dkim.test (from <someone@tenant-a.test>)", "bounces@tenant-a.test", "dkim.test")]
    [InlineData("=?utf-8?q?S=C3=A9nder?= (x) <sender (c) @ (c) DKIM.test>", "bounces@tenant-a.test", "dkim.test")]
    [InlineData("\"a,b\"@dkim.test", "bounces@tenant-a.test", "dkim.test")]
    // A single mailbox of a domain without a key: the envelope sender's domain, as documented.
    [InlineData("Someone <someone@tenant-a.test>", "bounces@other.dkim.test", "other.dkim.test")]
    public async Task The_key_is_chosen_by_the_single_From_mailbox_as_receivers_parse_it(string from, string envelope, string? signedBy)
    {
        using var keyring = DkimKeyring.Create([dns.Options("s2048"), dns.Options("o2048")], NullLogger.Instance, TimeProvider.System)!;
        var raw = Encoding.UTF8.GetBytes("From: " + from + "\r\nTo: rcpt@example.test\r\nSubject: Tenant mail\r\n" + Body);

        var wire = await WireAsync(keyring.Wrap(SmtpContent.FromBytes(raw), envelope), EightBit);

        var signatures = Signatures(wire);
        if (signedBy is null)
        {
            Assert.Empty(signatures);
            return;
        }

        Assert.Contains($"d={signedBy};", Assert.Single(signatures), StringComparison.Ordinal);
        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.True(python.Passed, python.Output);
    }

    [Fact]
    public async Task Two_From_fields_are_not_signed()
    {
        using var keyring = DkimKeyring.Create([dns.Options("s2048"), dns.Options("o2048")], NullLogger.Instance, TimeProvider.System)!;
        var raw = Encoding.ASCII.GetBytes("From: someone@tenant-a.test\r\nFrom: sender@dkim.test\r\nTo: rcpt@example.test\r\n" + Body);

        var wire = await WireAsync(keyring.Wrap(SmtpContent.FromBytes(raw), "bounces@other.dkim.test"), EightBit);

        Assert.Empty(Signatures(wire));
    }

    [Theory]
    [InlineData("X-\0Tag", "'X-\\u0000Tag'")]
    [InlineData("X-\u001b[31mTag", "'X-\\u001b[31mTag'")]
    [InlineData("X-Tag\u007f", "'X-Tag\\u007f'")]
    [InlineData("X-\u0085Tag", "'X-\\u0085Tag'")]
    [InlineData("X-Tägg", "'X-T\\u00e4gg'")]
    [InlineData("X Tag", "'X Tag'")]
    [InlineData("X-Tag:", "'X-Tag:'")]
    [InlineData("", "''")]
    public void Header_names_that_are_not_RFC_5322_field_names_are_refused_with_the_name_escaped(string name, string shown)
    {
        var options = dns.Options("s1024", o => o.Headers.Add(name));

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("Headers", e.ParamName);
        Assert.StartsWith($"DirectMail:Dkim entry for 'dkim.test': {shown} in Headers is not a header field name (RFC 5322: one or more printable US-ASCII characters, 33 to 126, except ':').", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', e.Message);
        Assert.DoesNotContain('\0', e.Message);
    }

    [Fact]
    public void Every_printable_field_name_is_accepted()
    {
        using var signer = dns.Signer("s1024", o => o.Headers.Add("X-!#$%&'*+-.^_`|~{}[]\"(),;<=>?@/\\0123456789"));
        Assert.Contains(signer.HeaderNames, n => Encoding.ASCII.GetString(n) == "x-!#$%&'*+-.^_`|~{}[]\"(),;<=>?@/\\0123456789");
    }

    private static readonly string[] Order =
    [
        "from", "reply-to", "to", "subject", "date", "message-id", "in-reply-to", "references", "mime-version", "content-type",
        "content-transfer-encoding", "content-disposition", "list-id", "list-unsubscribe", "list-unsubscribe-post", "sender", "cc",
    ];

    private static string[] SignedNames(string signature)
    {
        var h = signature[(signature.IndexOf(" h=", StringComparison.Ordinal) + 3)..];
        h = h[..h.IndexOf(';', StringComparison.Ordinal)].Replace("\t", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
        return h.Split(':');
    }

    private static byte[] Prepend(byte[] wire, string field) => [.. Encoding.UTF8.GetBytes(field + "\r\n"), .. wire];

    private async Task AssertVerifiesAsync(byte[] wire)
    {
        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.True(python.Passed, "dkimpy: " + python.Output);
        var openDkim = await DkimVerifiers.OpenDkimAsync(wire, dns);
        Assert.True(openDkim.Passed, "opendkim-testmsg: " + openDkim.Output);
        var mimeKit = await DkimVerifiers.MimeKitAsync(wire);
        Assert.True(mimeKit.Passed, "MimeKit: " + mimeKit.Output);
    }
}
