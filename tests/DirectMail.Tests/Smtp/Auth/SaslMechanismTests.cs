using System;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Smtp.Auth;

namespace DirectMail.Tests.Smtp.Auth;

/// <summary>The client SASL mechanisms, byte for byte, against the RFCs' own examples.</summary>
public sealed class SaslMechanismTests
{
    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Scram_sha_1_produces_the_RFC_5802_section_5_example_and_verifies_its_server_signature()
    {
        var scram = new SaslScram(SmtpAuthMechanism.ScramSha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");

        Assert.Equal("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", Text(scram.Respond([])));
        var final = scram.Respond(Bytes("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"));
        Assert.Equal("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", Text(final));
        Assert.False(scram.IsServerAuthenticated);
        Assert.Empty(scram.Respond(Bytes("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")));
        Assert.True(scram.IsServerAuthenticated);
    }

    [Fact]
    public void Scram_sha_256_produces_the_RFC_7677_section_3_example_and_verifies_its_server_signature()
    {
        var scram = new SaslScram(SmtpAuthMechanism.ScramSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");

        Assert.Equal("SCRAM-SHA-256", scram.Name);
        Assert.Equal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", Text(scram.Respond([])));
        var final = scram.Respond(Bytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
        Assert.Equal("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", Text(final));
        Assert.Empty(scram.Respond(Bytes("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")));
        Assert.True(scram.IsServerAuthenticated);
    }

    [Fact]
    public void Scram_refuses_a_server_signature_that_does_not_match()
    {
        var scram = new SaslScram(SmtpAuthMechanism.ScramSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        scram.Respond([]);
        scram.Respond(Bytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));

        var e = Assert.Throws<SaslException>(() => scram.Respond(Bytes("v=" + Convert.ToBase64String(new byte[32]))));
        Assert.Contains("signature is wrong", e.Message, StringComparison.Ordinal);
        Assert.False(scram.IsServerAuthenticated);
    }

    [Theory]
    [InlineData("r=someoneelsesnonce,s=QSXCR+Q6sek8bf92,i=4096")] // not our nonce
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096")] // our nonce, not extended
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=0")]
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=100000000")] // a CPU bomb
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawLx,s=!!,i=4096")]
    [InlineData("m=ext,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096")]
    public void Scram_refuses_a_server_first_message_it_cannot_trust(string serverFirst)
    {
        var scram = new SaslScram(SmtpAuthMechanism.ScramSha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
        scram.Respond([]);

        Assert.Throws<SaslException>(() => scram.Respond(Bytes(serverFirst)));
    }

    [Fact]
    public void Scram_escapes_comma_and_equals_in_the_user_name_and_masks_the_proof_in_the_trace()
    {
        var scram = new SaslScram(SmtpAuthMechanism.ScramSha1, "a,b=c", "pencil", "nonce");

        Assert.Equal("n,,n=a=2Cb=3Dc,r=nonce", Text(scram.Respond([])));
        scram.Respond(Bytes("r=nonceXYZ,s=QSXCR+Q6sek8bf92,i=16"));
        Assert.Equal("<c=biws,r=nonceXYZ,p=masked>", scram.TraceText);
    }

    [Fact]
    public void Scram_draws_a_fresh_nonce_for_each_exchange()
    {
        var first = Text(new SaslScram(SmtpAuthMechanism.ScramSha256, "user", "pencil").Respond([]));
        var second = Text(new SaslScram(SmtpAuthMechanism.ScramSha256, "user", "pencil").Respond([]));

        Assert.StartsWith("n,,n=user,r=", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.DoesNotContain(',', first["n,,n=user,r=".Length..]);
    }

    [Fact]
    public void SaslPrep_maps_non_ascii_spaces_and_soft_hyphens_and_refuses_control_characters()
    {
        Assert.Equal("I X", SaslPrep.Prepare("I\u00ADX".Insert(1, "\u00A0")));
        Assert.Equal("user", SaslPrep.Prepare("user"));
        Assert.Equal("IV", SaslPrep.Prepare("\u2163")); // RFC 4013 section 3: U+2163 ROMAN NUMERAL FOUR
        Assert.Throws<ArgumentException>(() => SaslPrep.Prepare("a\u0007"));
    }

    [Fact]
    public void Plain_sends_the_user_and_password_with_no_authorization_identity_and_masks_the_password()
    {
        var plain = new SaslPlain("tim", "tanstaaftanstaaf");

        Assert.Equal("\0tim\0tanstaaftanstaaf", Text(plain.Respond([])));
        Assert.DoesNotContain("tanstaaf", plain.TraceText, StringComparison.Ordinal);
    }

    [Fact]
    public void Login_answers_the_two_prompts_with_the_user_then_the_password()
    {
        var login = new SaslLogin("tim", "secret");

        Assert.False(login.HasInitialResponse);
        Assert.Equal("tim", Text(login.Respond(Bytes("Username:"))));
        Assert.Equal("secret", Text(login.Respond(Bytes("Password:"))));
        Assert.Equal("<password masked>", login.TraceText);
        Assert.Throws<SaslException>(() => login.Respond(Bytes("More:")));
    }

    [Fact]
    public void XOAuth2_sends_user_and_bearer_token_and_answers_the_error_challenge_with_an_empty_response()
    {
        var sasl = new SaslXOAuth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");

        Assert.Equal("user=someuser@example.com\u0001auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\u0001\u0001", Text(sasl.Respond([])));
        Assert.DoesNotContain("ya29", sasl.TraceText, StringComparison.Ordinal);
        Assert.Empty(sasl.Respond(Bytes("{\"status\":\"401\",\"schemes\":\"bearer mac\",\"scope\":\"https://mail.google.com/\"}")));
        Assert.True(sasl.TokenRejected);
    }

    [Fact]
    public void OAuthBearer_sends_the_RFC_7628_gs2_header_and_answers_an_invalid_token_error_with_a_single_ctrl_a()
    {
        var sasl = new SaslOAuthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==");

        Assert.Equal("n,a=user@example.com,\u0001auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\u0001\u0001", Text(sasl.Respond([])));
        Assert.Equal([0x01], sasl.Respond(Bytes("{\"status\":\"invalid_token\",\"scope\":\"example_scope\",\"openid-configuration\":\"https://example.com/.well-known/openid-configuration\"}")));
        Assert.True(sasl.TokenRejected);
    }

    [Theory]
    [InlineData("{\"status\":\"insufficient_scope\"}", false)]
    [InlineData("{\"status\":\"invalid_token\"}", true)]
    [InlineData("not json", false)]
    public void Only_an_expired_or_invalid_token_error_asks_for_a_refresh(string challenge, bool refresh)
    {
        Assert.Equal(refresh, OAuthErrorChallenge.SaysTokenRejected(Bytes(challenge)));
    }

    [Theory]
    [InlineData("PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256", SmtpAuthMechanism.ScramSha256)]
    [InlineData("LOGIN PLAIN SCRAM-SHA-1", SmtpAuthMechanism.ScramSha1)]
    [InlineData("login plain", SmtpAuthMechanism.Plain)]
    [InlineData("LOGIN XOAUTH2", SmtpAuthMechanism.Login)]
    [InlineData("XOAUTH2 OAUTHBEARER", null)]
    public void A_password_takes_the_strongest_password_mechanism_offered(string offered, SmtpAuthMechanism? expected)
    {
        Assert.Equal(expected, SmtpAuthExchange.Choose(offered, SmtpCredentials.FromPassword("u", "p"), null));
    }

    [Fact]
    public void A_token_takes_OAUTHBEARER_before_XOAUTH2_and_a_pinned_mechanism_is_used_only_when_offered()
    {
        var token = SmtpCredentials.FromOAuthToken("u", static (_, _, _) => ValueTask.FromResult("t"));

        Assert.Equal(SmtpAuthMechanism.OAuthBearer, SmtpAuthExchange.Choose("PLAIN XOAUTH2 OAUTHBEARER", token, null));
        Assert.Equal(SmtpAuthMechanism.XOAuth2, SmtpAuthExchange.Choose("PLAIN XOAUTH2 OAUTHBEARER", token, SmtpAuthMechanism.XOAuth2));
        Assert.Null(SmtpAuthExchange.Choose("PLAIN LOGIN", SmtpCredentials.FromPassword("u", "p"), SmtpAuthMechanism.ScramSha256));
        Assert.Equal(SmtpAuthMechanism.Login, SmtpAuthExchange.Choose("PLAIN LOGIN SCRAM-SHA-256", SmtpCredentials.FromPassword("u", "p"), SmtpAuthMechanism.Login));
    }

    [Fact]
    public void Credentials_never_show_their_secret()
    {
        Assert.Equal("tim (password)", SmtpCredentials.FromPassword("tim", "hunter2").ToString());
    }
}
