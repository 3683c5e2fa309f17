using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Dkim;
using DirectMail.Smtp;

namespace DirectMail.Tests.Dkim;

/// <summary>
/// README, DKIM signing: the fields signed (From, Reply-To, Sender, To, Cc, Subject, Date, Message-ID, In-Reply-To,
/// References, MIME-Version, Content-Type, Content-Transfer-Encoding, Content-Disposition, List-Id,
/// List-Unsubscribe(-Post), Resent-* when present), every field allowed at most once over-signed (absent ones too), and
/// nothing else: the exact <c>h=</c> tag of a message carrying all of them and more.
/// </summary>
public sealed class DkimSignedHeaderListTests
{
    private const string Header =
        "From: Ann <ann@dkim.example>\r\n" +
        "Sender: list@dkim.example\r\n" +
        "Reply-To: help@dkim.example\r\n" +
        "To: bob@example.org\r\n" +
        "Cc: cy@example.org\r\n" +
        "Subject: The list\r\n" +
        "Date: Thu, 03 Dec 2026 12:00:00 +0000\r\n" +
        "Message-ID: <h.1@dkim.example>\r\n" +
        "In-Reply-To: <h.0@dkim.example>\r\n" +
        "References: <h.0@dkim.example>\r\n" +
        "List-Id: <news.dkim.example>\r\n" +
        "List-Unsubscribe: <https://dkim.example/u>\r\n" +
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" +
        "Resent-From: relay@dkim.example\r\n" +
        "Received: from somewhere by here\r\n" +
        "X-Mailer: not signed\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=us-ascii\r\n" +
        "Content-Transfer-Encoding: 7bit\r\n";

    [Fact]
    public async Task The_signed_header_list_is_the_documented_fields_present_with_the_at_most_once_ones_over_signed()
    {
        using var rsa = RSA.Create(2048);
        using var signer = DkimSigner.FromPem("dkim.example", "s1", rsa.ExportPkcs8PrivateKeyPem());
        var content = signer.Sign(SmtpContent.FromBytes(Encoding.ASCII.GetBytes(Header + "\r\nBody.\r\n")));
        using var output = new MemoryStream();
        await content.WriteToAsync(output, SmtpCapabilities.Minimal, default);
        var text = Encoding.ASCII.GetString(output.ToArray());
        var field = text[..text.IndexOf("\r\nFrom:", StringComparison.Ordinal)].Replace("\r\n", string.Empty, StringComparison.Ordinal);
        var h = field[(field.IndexOf(" h=", StringComparison.Ordinal) + 3)..];
        h = new string(h[..h.IndexOf(';', StringComparison.Ordinal)].Where(c => c is not (' ' or '\t')).ToArray());

        // Each present at-most-once field twice (itself, and one more: no second one may be added), the absent
        // Content-Disposition once (none may be added), Resent-From (may repeat) once, Received and X-Mailer not at all.
        Assert.Equal(
            "from:from:reply-to:reply-to:sender:sender:to:to:cc:cc:subject:subject:date:date:message-id:message-id:" +
            "in-reply-to:in-reply-to:references:references:mime-version:mime-version:content-type:content-type:" +
            "content-transfer-encoding:content-transfer-encoding:content-disposition:list-id:list-id:" +
            "list-unsubscribe:list-unsubscribe:list-unsubscribe-post:list-unsubscribe-post:resent-from",
            h);
    }
}
