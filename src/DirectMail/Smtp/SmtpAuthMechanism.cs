namespace DirectMail.Smtp;

/// <summary>
/// A SASL mechanism for SMTP AUTH (RFC 4954). Without one pinned (<see cref="SmtpSessionOptions.AuthMechanism"/>) the
/// session takes the strongest one both sides offer: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN for a password;
/// OAUTHBEARER, XOAUTH2 for a token.
/// </summary>
public enum SmtpAuthMechanism
{
    /// <summary><c>PLAIN</c> (RFC 4616): the user name and password in one message, protected only by TLS.</summary>
    Plain,

    /// <summary><c>LOGIN</c> (draft-murchison-sasl-login): user name and password in two steps; for servers that offer nothing else.</summary>
    Login,

    /// <summary><c>SCRAM-SHA-1</c> (RFC 5802): the password never crosses the wire, and the server proves it knows it.</summary>
    ScramSha1,

    /// <summary><c>SCRAM-SHA-256</c> (RFC 7677): SCRAM with SHA-256; the strongest password mechanism.</summary>
    ScramSha256,

    /// <summary><c>XOAUTH2</c>: an OAuth 2.0 bearer token, as Google and Microsoft 365 take it.</summary>
    XOAuth2,

    /// <summary><c>OAUTHBEARER</c> (RFC 7628): the standard form of an OAuth 2.0 bearer token.</summary>
    OAuthBearer,
}
