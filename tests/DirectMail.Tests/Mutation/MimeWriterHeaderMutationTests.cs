using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using DirectMail.Mime;

namespace DirectMail.Tests.Mutation;

/// <summary>
/// The MIME writer's header fields at the exact edges Stryker.NET found untested (README, "Mutation testing"): a line
/// of exactly 78 characters and one of 79, the 900-character limit for unstructured text written as it is, the
/// quoted-string and encoded-word choices for display names and parameters, the Q-or-B choice and the length of each
/// encoded-word, and RFC 2231 sections from the tenth on. Every expectation is the whole field, byte for byte:
/// a fold one character early is valid MIME, but it is not what the writer promises (fold only where the next token
/// would pass column 78), and a fold one character late breaks RFC 5322's 78-character line.
/// </summary>
public sealed class MimeWriterHeaderMutationTests
{
    private static string A(int n) => new('a', n);

    private static string B(int n) => new('b', n);

    private static string Field(string name, Action<MimeWriter> value)
    {
        using var output = new MemoryStream();
        using (var writer = new MimeWriter(output, CancellationToken.None))
        {
            writer.StartField(name);
            value(writer);
            writer.EndField();
            writer.FlushAsync().AsTask().GetAwaiter().GetResult(); // a MemoryStream completes synchronously
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static string Subject(string value) => Field("Subject", w => w.WriteUnstructured(value));

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    // ------------------------------------------------------------------ unstructured text written as it is

    [Fact]
    public void A_line_of_exactly_78_characters_is_not_folded_and_one_of_79_is()
    {
        // Stops: the fold test in WriteUnstructured loosened to ">= 78" (every full line folded one word early) or
        // tightened (a 79-character line).
        Assert.Equal("Subject: " + A(34) + " " + B(34) + "\r\n", Subject(A(34) + " " + B(34)));
        Assert.Equal(78, ("Subject: " + A(34) + " " + B(34)).Length);
        Assert.Equal("Subject: " + A(34) + "\r\n " + B(35) + "\r\n", Subject(A(34) + " " + B(35)));
    }

    [Fact]
    public void Trailing_spaces_are_kept_as_they_are()
    {
        // Stops: the scan for a token's leading spaces reading one past the end (an IndexOutOfRangeException for any
        // value that ends with a space).
        Assert.Equal("Subject: abc  \r\n", Subject("abc  "));
    }

    [Fact]
    public void The_first_token_is_never_folded_away_from_the_field_name()
    {
        // Stops: the "not the first token" condition dropped (start >= 0) or or-ed: a long field name and a long
        // first word folded straight after the colon, leaving "Name: " alone on its line and, without leading
        // spaces, a continuation line that starts with the word itself (no white space: the header is broken).
        var name = "X-" + new string('n', 60);
        var word = new string('w', 20);
        Assert.Equal(name + ": " + word + "\r\n", Field(name, w => w.WriteUnstructured(word)));
        Assert.Equal(name + ":   " + word + "\r\n", Field(name, w => w.WriteUnstructured("  " + word)));
    }

    [Fact]
    public void A_word_of_900_characters_is_written_as_it_is_and_one_of_901_is_encoded()
    {
        // Stops: the longest-token scan broken (never counting, counting with Min, resetting at every character, never
        // resetting) or its limit moved: a 901-character word written raw gives a line no fold can shorten; two
        // words of 500 encoded for nothing.
        Assert.Equal("Subject: " + A(900) + "\r\n", Subject(A(900)));
        var encoded = Subject(A(901));
        Assert.StartsWith("Subject: =?utf-8?Q?aaaa", encoded, StringComparison.Ordinal);
        Assert.DoesNotContain(A(76), encoded, StringComparison.Ordinal);

        Assert.Equal("Subject: " + A(500) + "\r\n " + B(500) + "\r\n", Subject(A(500) + " " + B(500)));

        // The spaces before a word belong to its token: two spaces and 899 letters make 901 on the folded line.
        Assert.StartsWith("Subject: =?utf-8?Q?a__bbb", Subject("a  " + B(899)), StringComparison.Ordinal);
        Assert.Equal("Subject: a\r\n  " + B(898) + "\r\n", Subject("a  " + B(898)));
    }

    // ------------------------------------------------------------------ msg-id and mailboxes

    [Fact]
    public void A_msg_id_folds_when_its_angle_brackets_would_pass_column_78()
    {
        // Stops: the msg-id's length counted without its two angle brackets (a 79-character line).
        var id64 = A(51) + "@example.test"; // "Message-ID: <" 13, the id 64, ">" 1: 78
        Assert.Equal("Message-ID: <" + id64 + ">\r\n", Field("Message-ID", w => w.WriteIdValue(id64)));
        var id65 = A(52) + "@example.test";
        Assert.Equal("Message-ID:\r\n <" + id65 + ">\r\n", Field("Message-ID", w => w.WriteIdValue(id65)));
    }

    [Fact]
    public void The_comma_after_a_mailbox_is_counted_on_its_line_and_only_when_it_follows()
    {
        // Stops: the trailing comma counted for the last mailbox too (a single 74-character address folded for
        // nothing) or subtracted instead of added (a 79-character line "To: address,").
        var a73 = A(60) + "@example.test";
        var a74 = A(61) + "@example.test";
        var other = "b@example.test";
        Assert.Equal("To: " + a74 + "\r\n", Field("To", w => w.WriteAddressList([new EmailAddress(a74)])));
        Assert.Equal("To: " + a73 + ",\r\n " + other + "\r\n", Field("To", w => w.WriteAddressList([new EmailAddress(a73), new EmailAddress(other)])));
        Assert.Equal("To:\r\n " + a74 + ",\r\n " + other + "\r\n", Field("To", w => w.WriteAddressList([new EmailAddress(a74), new EmailAddress(other)])));
    }

    [Theory]
    [InlineData("Zoe 09")]
    [InlineData("AZ az 0 9")]
    public void A_display_name_of_atext_words_is_written_without_quotes(string name)
    {
        // Stops: the atext ranges narrowed at their ends ('Z', '0', '9'): such names quoted for nothing.
        Assert.Equal("From: " + name + " <a@example.test>\r\n", Field("From", w => w.WriteMailbox(new EmailAddress("a@example.test", name))));
    }

    [Theory]
    [InlineData("John  Doe")]
    [InlineData(" John")]
    [InlineData("Doe, John")]
    public void A_display_name_with_spaces_at_its_edges_doubled_or_specials_is_quoted(string name)
    {
        // Stops: the spaces test or-ed wrongly, or "not an atom phrase" turned around: written as words, a double
        // or leading space is lost when the header is read (white space between words is one space), and a comma
        // splits one mailbox into two.
        Assert.Equal("From: \"" + name + "\" <a@example.test>\r\n", Field("From", w => w.WriteMailbox(new EmailAddress("a@example.test", name))));
    }

    [Fact]
    public void An_ascii_display_name_holding_an_encoded_word_opener_is_encoded()
    {
        // Stops: the "=?" test dropped or turned around: a reader decodes "=?charset?Q?text?=" inside a phrase as an
        // encoded-word (RFC 2047 section 5), so the name written raw would be read as another name; and every plain
        // name that needs quotes would become encoded-words.
        Assert.Equal("From: =?utf-8?B?" + B64("x, =?y") + "?= <a@example.test>\r\n", Field("From", w => w.WriteMailbox(new EmailAddress("a@example.test", "x, =?y"))));
        // All atext, so once written as an atom phrase: a reader showed "Bank" for it.
        var lookalike = "=?utf-8?Q?Bank?=";
        var written = Field("From", w => w.WriteMailbox(new EmailAddress("a@example.test", lookalike)));
        Assert.DoesNotContain(" " + lookalike + " ", written, StringComparison.Ordinal);
        Assert.Equal(lookalike, DirectMail.Tests.Mime.MimeTestSupport.Parse(Encoding.ASCII.GetBytes(written + "\r\n")).From.Mailboxes.Single().Name);
    }

    [Fact]
    public void A_quoted_display_name_of_76_characters_stays_quoted_and_one_of_77_is_encoded()
    {
        // Stops: the quoted length's limit moved either way, or its count of backslash escapes dropped, turned
        // around or counted down: a quoted string that no fold can fit in 78 characters.
        var fits = "Doe, " + A(69);
        Assert.Equal("From:\r\n \"" + fits + "\"\r\n <a@example.test>\r\n", Field("From", w => w.WriteMailbox(new EmailAddress("a@example.test", fits))));
        var tooLong = "Doe, " + A(70);
        Assert.Equal("From: =?utf-8?Q?Doe=2C_" + A(53) + "?=\r\n =?utf-8?Q?" + A(17) + "?= <a@example.test>\r\n", Field("From", w => w.WriteMailbox(new EmailAddress("a@example.test", tooLong))));

        var quoteFits = "a\"" + A(71); // 73 characters, 76 quoted with its backslash
        Assert.Equal("From:\r\n \"a\\\"" + A(71) + "\"\r\n <a@example.test>\r\n", Field("From", w => w.WriteMailbox(new EmailAddress("a@example.test", quoteFits))));
        var quoteTooLong = "a\"" + A(72);
        Assert.StartsWith("From: =?utf-8?Q?a=22aaa", Field("From", w => w.WriteMailbox(new EmailAddress("a@example.test", quoteTooLong))), StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ encoded-words

    [Fact]
    public void Q_leaves_letters_digits_and_the_phrase_safe_specials_as_they_are_and_escapes_the_rest()
    {
        // Stops: any end of the Q-safe ranges narrowed, or the ranges and-ed: RFC 2047 section 5 rule 3 lets
        // letters, digits and "!*+-/" stand for themselves; "=", "?", "_", "." and "@" must be escaped.
        Assert.Equal("Subject: =?utf-8?Q?Zo=C3=AB_azAZ09!*+-/?=\r\n", Subject("Zoë azAZ09!*+-/"));
        Assert.Equal("Subject: =?utf-8?Q?=C3=BC=3D=3F=5F=2E=40_plain_words_here_to_keep_it_Q?=\r\n", Subject("ü=?_.@ plain words here to keep it Q"));
    }

    [Fact]
    public void B_is_chosen_when_escapes_times_four_reach_the_utf8_length_and_Q_below()
    {
        // Stops: the choice moved ("> " for ">="), non-ASCII not counted as two escapes, spaces counted as escapes
        // or unsafe ASCII not counted: each picks the longer of the two encodings for these values.
        Assert.Equal("Subject: =?utf-8?B?" + B64("éaaaaaa") + "?=\r\n", Subject("éaaaaaa"));        // 2 escapes, 8 octets
        Assert.Equal("Subject: =?utf-8?Q?=C3=A9aaaaaaa?=\r\n", Subject("éaaaaaaa"));                  // 2 escapes, 9 octets
        Assert.Equal("Subject: =?utf-8?Q?=C3=A9_a_b_c_d?=\r\n", Subject("é a b c d"));                // spaces are "_"
        Assert.Equal("Subject: =?utf-8?B?" + B64("é.a.b.cd") + "?=\r\n", Subject("é.a.b.cd"));      // 5 escapes, 9 octets
    }

    [Fact]
    public void An_encoded_word_folds_first_when_fewer_than_20_columns_are_left()
    {
        // Stops: the fold moved to "<= 20": a word that fits after a long field name put on its own line.
        var fits = "X-" + new string('n', 54); // the colon ends at column 57: 20 columns left
        Assert.Equal(fits + ": =?utf-8?B?w6k=?=\r\n", Field(fits, w => w.WriteUnstructured("é")));
        var folds = fits + "n";
        Assert.Equal(folds + ":\r\n =?utf-8?B?w6k=?=\r\n", Field(folds, w => w.WriteUnstructured("é")));
    }

    [Fact]
    public void A_B_word_takes_characters_until_its_payload_would_pass_the_line()
    {
        // Stops: the B payload test loosened to ">=": one character fewer per word, so more words and folds.
        // After "X-Header:" a word has 56 payload characters: 21 two-octet characters make exactly 56.
        var text = new string('é', 30);
        Assert.Equal("X-Header: =?utf-8?B?" + B64(new string('é', 21)) + "?=\r\n =?utf-8?B?" + B64(new string('é', 9)) + "?=\r\n", Field("X-Header", w => w.WriteUnstructured(text)));
    }

    [Fact]
    public void A_Q_word_takes_characters_until_its_payload_would_pass_the_line()
    {
        // Stops: the Q payload test loosened to ">=", or every octet costed three (safe ones cost one).
        var text = "é" + A(50) + B(5);
        Assert.Equal("X-Header: =?utf-8?Q?=C3=A9" + A(50) + "?=\r\n =?utf-8?Q?bbbbb?=\r\n", Field("X-Header", w => w.WriteUnstructured(text)));
    }

    // ------------------------------------------------------------------ parameters (RFC 2045, RFC 2231)

    private static string Parameter(string value) => Field("X", w => w.WriteParameter("name", value));

    [Fact]
    public void A_token_value_is_written_bare_up_to_76_characters_for_attribute_and_value()
    {
        // Stops: the token form's length limit moved, added instead of subtracted, or or-ed with "not empty":
        // a 72-character token on a 79-character line, or the fold before it lost.
        Assert.Equal("X:;\r\n name=" + A(71) + "\r\n", Parameter(A(71)));
        Assert.Equal("X:;\r\n name*0*=utf-8''" + A(60) + ";\r\n name*1*=" + A(12) + "\r\n", Parameter(A(72)));
    }

    [Fact]
    public void An_empty_value_is_a_quoted_empty_string()
    {
        // Stops: "not empty" loosened: "name=" with nothing after it is not a valid parameter (RFC 2045 value).
        Assert.Equal("X:; name=\"\"\r\n", Parameter(string.Empty));
    }

    [Fact]
    public void A_quoted_value_fits_76_characters_with_its_escapes_and_otherwise_goes_to_rfc2231()
    {
        // Stops: the quoted form's length (attribute, '=', two quotes, value, one per backslash escape) miscounted
        // or its limit moved: a line over 78, or a short value percent-encoded for nothing.
        var fits = A(34) + " " + B(34);
        Assert.Equal("X:;\r\n name=\"" + fits + "\"\r\n", Parameter(fits));
        Assert.Equal("X:;\r\n name*0*=utf-8''" + A(35) + "%20" + B(22) + ";\r\n name*1*=" + B(12) + "\r\n", Parameter(A(35) + " " + B(34)));

        Assert.Equal("X:;\r\n name=\"a\\\"" + B(66) + "\"\r\n", Parameter("a\"" + B(66)));
        Assert.Equal("X:;\r\n name*0*=utf-8''a%22" + B(56) + ";\r\n name*1*=" + B(11) + "\r\n", Parameter("a\"" + B(67)));
    }

    [Fact]
    public void A_single_rfc2231_value_fits_76_characters_and_longer_ones_are_split_into_sections()
    {
        // Stops: the single-section limit moved or its fold length subtracted.
        Assert.Equal("X:;\r\n name*=utf-8''%C3%A9" + A(57) + "\r\n", Parameter("é" + A(57)));
        Assert.Equal("X:;\r\n name*0*=utf-8''%C3%A9" + A(54) + ";\r\n name*1*=" + A(4) + "\r\n", Parameter("é" + A(58)));
    }

    [Fact]
    public void Rfc2231_percent_encodes_the_asterisk_the_apostrophe_and_the_percent_sign()
    {
        // Stops: '*' and '\'' taken as attribute-chars: in an extended value they delimit the charset and
        // language and mark sections (RFC 2231 section 7), so a reader would cut the value there.
        Assert.Equal("X:; name*=utf-8''%C3%A9%2A%27%25\r\n", Parameter("é*'%"));
    }

    [Fact]
    public void Sections_from_the_tenth_on_leave_room_for_their_two_digit_number()
    {
        // Stops: the section prefix's digit count or its "*=utf-8''" length misjudged (sections one character too
        // long or too short), or a section's budget test loosened to ">=".
        var expected = new StringBuilder("X:;\r\n name*0*=utf-8''").Append(A(60)).Append(';');
        for (var s = 1; s <= 9; s++)
        {
            expected.Append("\r\n name*").Append(s).Append("*=").Append(A(67)).Append(';');
        }

        expected.Append("\r\n name*10*=").Append(A(66)).Append(";\r\n name*11*=").Append(A(66)).Append(";\r\n name*12*=").Append(A(5)).Append("\r\n");
        var written = Parameter(A(800));
        Assert.Equal(expected.ToString(), written);
        foreach (var line in written.Split("\r\n"))
        {
            Assert.True(line.Length <= 78, line);
        }
    }
}
