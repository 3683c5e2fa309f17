using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Dkim;
using DirectMail.Mime;
using DirectMail.Smtp;
using static DirectMail.Tests.Dkim.DkimTestSupport;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Dkim;

/// <summary>Signatures made by <see cref="DkimSigner"/>, checked by three independent verifiers against the test DNS.</summary>
[Collection(DkimCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DkimSignerTests(DkimDnsFixture dns)
{
    public static TheoryData<string, bool> Messages()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in MessageCases.Keys)
        {
            data.Add(name, true);
            data.Add(name, false);
        }

        return data;
    }

    private static readonly Dictionary<string, Func<EmailMessage>> MessageCases = new()
    {
        ["malay"] = () => Message("Mesyuarat agung tahunan", "Selamat pagi semua,\n\nMesyuarat akan diadakan pada hari Isnin. Sila hadir tepat pada masanya.\n"),
        ["chinese"] = () => Message("会议通知：年度大会", "大家好，\n\n年度大会将于星期一举行。请准时出席。谢谢！\n"),
        ["arabic"] = () => Message("دعوة إلى الاجتماع السنوي", "مرحبا بالجميع،\n\nسيعقد الاجتماع يوم الاثنين. يرجى الحضور في الموعد.\n"),
        ["hindi"] = () => Message("वार्षिक बैठक की सूचना", "नमस्ते सभी को,\n\nबैठक सोमवार को होगी। कृपया समय पर पहुँचें।\n"),
        ["emoji"] = () => Message("🎉 Party time 🥳🎈 — bring 🍕", "See you there 😀👍\r\n", "<p>See you <b>there</b> 😀</p>"),
        ["attachments"] = () =>
        {
            var m = Message("Report with attachments", "Attached: the report and a picture.\n", "<p>Attached.</p>");
            var bytes = new byte[70_000];
            new Random(7).NextBytes(bytes);
            m.Attachments.Add(Attachment.FromBytes(bytes, "data.bin"));
            m.Attachments.Add(Attachment.FromBytes(Encoding.UTF8.GetBytes("a,b\n1,2\n"), "tableau été.csv", "text/csv"));
            return m;
        },
        ["long-headers"] = () =>
        {
            var m = Message(string.Concat(Enumerable.Repeat("A very long subject that must be folded over several lines ", 6)), "Body line with  two spaces and a tab\tand trailing space \n\n\n");
            for (var i = 0; i < 40; i++)
            {
                m.To.Add($"recipient{i}@example{i % 3}.test", $"Recipient Number {i}");
            }

            m.Cc.Add("cc@example.test", "Mélanie Çà");
            m.ReplyTo.Add("reply@dkim.test");
            m.Headers.Add("X-Long-Header", string.Concat(Enumerable.Repeat("word ", 120)));
            m.Headers.Add("List-Unsubscribe", "<https://dkim.test/unsubscribe?id=1234567890>");
            m.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            return m;
        },
        ["empty-body"] = () => Message("Nothing", string.Empty),
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public async Task Messages_in_many_scripts_and_forms_verify_with_every_verifier(string name, bool eightBit)
    {
        using var signer = dns.Signer();
        var wire = await WireAsync(signer.Sign(MessageCases[name]().ToSmtpContent()), eightBit ? EightBit : SevenBit);

        await AssertVerifiesAsync(wire);
    }

    [Theory]
    [InlineData("s1024")]
    [InlineData("s4096")]
    [InlineData("pkcs1")]
    public async Task Keys_of_every_size_and_PEM_form_verify(string selector)
    {
        using var signer = dns.Signer(selector);
        var wire = await WireAsync(signer.Sign(Message("Key " + selector, "Hello.\n").ToSmtpContent()), EightBit);

        Assert.Contains($"s={selector};", Signatures(wire)[0], StringComparison.Ordinal);
        await AssertVerifiesAsync(wire);
    }

    /// <summary>A raw message with what canonicalisation cares about: tabs, runs of spaces, trailing white space, folded headers, trailing empty lines, bare LF and CR line ends, no final line end.</summary>
    private static readonly byte[] Awkward = Encoding.UTF8.GetBytes(
        "From: \"Sender\"  <sender@dkim.test>\n" +
        "To: rcpt@example.test,\r\n\t other@example.test  \r\n" +
        "Subject:   Spaces   and\ttabs \t\r\n" +
        "Date: Sat, 1 Mar 2025 12:00:00 +0000\r\n" +
        "Message-ID: <awkward@dkim.test>\r\n" +
        "X-Unsigned: yes\r\n" +
        "\r\n" +
        "  leading spaces\r\n" +
        "tab\there  and   runs   \r\n" +
        "bare LF\n" +
        "bare CR\r" +
        ".a dot line\r\n" +
        "\r\n \t \r\n\r\n" +
        "last line without end");

    [Theory]
    [InlineData(DkimCanonicalization.Relaxed, DkimCanonicalization.Relaxed)]
    [InlineData(DkimCanonicalization.Simple, DkimCanonicalization.Simple)]
    [InlineData(DkimCanonicalization.Relaxed, DkimCanonicalization.Simple)]
    [InlineData(DkimCanonicalization.Simple, DkimCanonicalization.Relaxed)]
    public async Task Every_canonicalisation_verifies_over_awkward_white_space_and_line_ends(DkimCanonicalization header, DkimCanonicalization body)
    {
        using var signer = dns.Signer(configure: o =>
        {
            o.HeaderCanonicalization = header;
            o.BodyCanonicalization = body;
        });
        var wire = await WireAsync(signer.Sign(SmtpContent.FromBytes(Awkward)), EightBit);

        var c = $"c={(header == DkimCanonicalization.Relaxed ? "relaxed" : "simple")}/{(body == DkimCanonicalization.Relaxed ? "relaxed" : "simple")};";
        Assert.Contains(c, Signatures(wire)[0], StringComparison.Ordinal);
        await AssertVerifiesAsync(wire);
    }

    [Fact]
    public async Task Changing_one_byte_of_the_body_or_of_a_signed_header_fails_and_an_unsigned_header_does_not()
    {
        using var signer = dns.Signer();
        var wire = await WireAsync(signer.Sign(Message("Quarterly numbers", "Revenue was 100 units.\n").ToSmtpContent()), EightBit);
        await AssertVerifiesAsync(wire);

        await AssertFailsAsync(Tamper(wire, "100 units", "900 units"), BodyChanged, OpenDkimBadSignature);
        await AssertFailsAsync(Tamper(wire, "Quarterly", "Quarterlx"), HeaderChanged, OpenDkimBadSignature);

        // A header nobody signed may change (relays add and rewrite such fields).
        var withExtra = Tamper(wire, "Subject:", "X-Relay: added\r\nSubject:");
        await AssertVerifiesAsync(withExtra);
    }

    [Fact]
    public async Task From_is_over_signed_so_a_second_From_breaks_the_signature()
    {
        using var signer = dns.Signer();
        var wire = await WireAsync(signer.Sign(Message("Hi", "Hello.\n").ToSmtpContent()), EightBit);

        var signature = Signatures(wire)[0];
        var h = signature[(signature.IndexOf("h=", StringComparison.Ordinal) + 2)..];
        h = h[..h.IndexOf(';', StringComparison.Ordinal)].Replace("\t", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
        Assert.Equal(2, h.Split(':').Count(n => n == "from"));
        Assert.Contains("subject", h.Split(':'));
        Assert.DoesNotContain("x-unsigned", h.Split(':'));

        await AssertFailsAsync(Tamper(wire, "Subject:", "From: Attacker <ceo@dkim.test>\r\nSubject:"), HeaderChanged, OpenDkimTwoFroms);
    }

    [Fact]
    public async Task The_signature_field_is_folded_at_78_with_t_and_x_and_never_l()
    {
        var now = DateTimeOffset.UtcNow;
        using var signer = dns.Signer("s4096", o => o.SignatureLifetime = TimeSpan.FromDays(3), new FakeTimeProvider(now));
        var content = signer.Sign(Message("Fold", "Hello.\n").ToSmtpContent());
        using var output = new MemoryStream();
        await content.WriteToAsync(output, EightBit, default);
        var text = Encoding.ASCII.GetString(output.ToArray());
        var field = text[..text.IndexOf("\r\nDate:", StringComparison.Ordinal)];

        Assert.StartsWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=dkim.test; s=s4096;", field, StringComparison.Ordinal);
        Assert.All(field.Split("\r\n"), line => Assert.True(line.Length <= 78, $"{line.Length}: {line}"));
        Assert.DoesNotContain('\n', field.Replace("\r\n", string.Empty, StringComparison.Ordinal));
        var unfolded = Signatures(ToWire(output.ToArray()))[0];
        Assert.Contains($"t={now.ToUnixTimeSeconds()};", unfolded, StringComparison.Ordinal);
        Assert.Contains($"x={now.ToUnixTimeSeconds() + (3 * 86400)};", unfolded, StringComparison.Ordinal);
        Assert.DoesNotContain("l", TagNames(unfolded)); // no body length limit, however the field is folded
        Assert.True(content.GetLength(EightBit) >= output.Length, "SIZE must not be under the octets sent.");
        await AssertVerifiesAsync(ToWire(output.ToArray()));
    }

    [Fact]
    public async Task An_expired_signature_fails()
    {
        using var signer = dns.Signer(configure: o => o.SignatureLifetime = TimeSpan.FromHours(1), time: new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-2)));
        var wire = await WireAsync(signer.Sign(Message("Old", "Hello.\n").ToSmtpContent()), EightBit);

        var result = await DkimVerifiers.DkimpyAsync(wire);
        Assert.False(result.Passed, result.Output);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(300_000)]
    public async Task A_forward_only_stream_is_spooled_and_still_signed(int bodyLength)
    {
        using var signer = dns.Signer();
        var raw = Encoding.ASCII.GetBytes("From: sender@dkim.test\r\nTo: rcpt@example.test\r\nSubject: Spooled\r\nDate: Sat, 1 Mar 2025 12:00:00 +0000\r\nMessage-ID: <spooled@dkim.test>\r\n\r\n" + string.Concat(Enumerable.Repeat("0123456789 abcdefghij  \r\n", bodyLength / 25)));
        using var stream = new ForwardOnlyStream(raw);
        var content = signer.Sign(SmtpContent.FromStream(stream));

        Assert.Null(content.GetLength(EightBit));
        var wire = await WireAsync(content, EightBit);

        Assert.EndsWith(Encoding.ASCII.GetString(ToWire(raw))[^100..], Encoding.ASCII.GetString(wire), StringComparison.Ordinal);
        await AssertVerifiesAsync(wire);

        // Signed content written directly (not readied by a mailer, which spools a forward-only source once for every
        // attempt) spools for its own two passes and reads the source once: a second write is refused, not a re-read
        // of whatever the source has left.
        Assert.Equal(1, stream.EndReads);
        var reads = stream.Reads;
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => WireAsync(content, EightBit));
        Assert.Contains("already been sent once", again.Message, StringComparison.Ordinal);
        Assert.Equal(reads, stream.Reads);
    }

    [Fact]
    public async Task Each_write_is_signed_for_its_server_8bit_and_quoted_printable()
    {
        using var signer = dns.Signer();
        var content = signer.Sign(Message("Café ☕", "Un café, s'il vous plaît. Très bien.\n").ToSmtpContent());

        var eight = await WireAsync(content, EightBit);
        var seven = await WireAsync(content, SevenBit);

        Assert.Contains(eight, b => b >= 0x80);
        Assert.DoesNotContain(seven, b => b >= 0x80);
        Assert.NotEqual(Signatures(eight)[0], Signatures(seven)[0]);
        await AssertVerifiesAsync(eight);
        await AssertVerifiesAsync(seven);
    }

    [Fact]
    public async Task Signing_allocates_at_most_8_KB_whatever_the_size()
    {
        using var signer = dns.Signer();
        var body = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog.  Twice\tover.\r\n", 20_000));
        var content = signer.Sign(SmtpContent.FromBytes(Encoding.ASCII.GetBytes("From: sender@dkim.test\r\nTo: rcpt@example.test\r\nSubject: Big\r\n\r\n" + body)));
        for (var i = 0; i < 3; i++)
        {
            await content.WriteToAsync(Stream.Null, EightBit, default); // warm the pools
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var pending = content.WriteToAsync(Stream.Null, EightBit, default);
        Assert.True(pending.IsCompletedSuccessfully, "in-memory content signs synchronously");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated <= 8 * 1024, $"{allocated} bytes allocated for one signature of a {body.Length / 1024} KB message.");
    }

    private async Task AssertVerifiesAsync(byte[] wire)
    {
        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.True(python.Passed, "dkimpy: " + python.Output + "\n" + Encoding.UTF8.GetString(wire.AsSpan(0, Math.Min(wire.Length, 3000))));
        var mimeKit = await DkimVerifiers.MimeKitAsync(wire);
        Assert.True(mimeKit.Passed, "MimeKit: " + mimeKit.Output);
        var openDkim = await DkimVerifiers.OpenDkimAsync(wire, dns);
        Assert.True(openDkim.Passed, "opendkim-testmsg: " + openDkim.Output);
    }

    // What dkimpy says (dkim_verify.py) when the body hash no longer matches, and when the body hash matches and the
    // signature over the header fields does not: a verifier that could not run at all (no key found, no DNS, a crash)
    // fails for another reason, and the negative checks must not count it.
    private const string BodyChanged = "body hash mismatch";
    private const string HeaderChanged = "signature does not verify";

    private async Task AssertFailsAsync(byte[] wire, string dkimpyReason, string openDkimReason)
    {
        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.False(python.Passed, "dkimpy passed a changed message: " + python.Output);
        Assert.Contains("fail a=rsa-sha256 d=dkim.test", python.Output, StringComparison.Ordinal);
        Assert.Contains(dkimpyReason, python.Output, StringComparison.Ordinal);
        var mimeKit = await DkimVerifiers.MimeKitAsync(wire);
        // MimeKit's key lookup throws when it cannot find the key: a "fail" line is its verdict on the signature.
        Assert.False(mimeKit.Passed, "MimeKit passed a changed message: " + mimeKit.Output);
        Assert.StartsWith("fail v=1; a=rsa-sha256;", mimeKit.Output, StringComparison.Ordinal);
        var openDkim = await DkimVerifiers.OpenDkimAsync(wire, dns);
        Assert.False(openDkim.Passed, "opendkim-testmsg passed a changed message: " + openDkim.Output);
        Assert.Contains(openDkimReason, openDkim.Output, StringComparison.Ordinal);
    }

    // libopendkim's verdict on a signature that does not verify, and its refusal of a message with two From fields
    // (RFC 5322 allows one; libopendkim stops at the header, before any signature).
    private const string OpenDkimBadSignature = "dkim_eom(): Bad signature";
    private const string OpenDkimTwoFroms = "dkim_chunk(): Syntax error";
}
