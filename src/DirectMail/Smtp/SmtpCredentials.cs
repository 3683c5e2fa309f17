using System;

namespace DirectMail.Smtp;

/// <summary>
/// Who the client authenticates as with SMTP AUTH (RFC 4954): a user name with a password, or with an OAuth 2.0 token
/// provider. The secret is never logged and never sent over a connection without TLS whose certificate was validated.
/// </summary>
public sealed class SmtpCredentials
{
    private SmtpCredentials(string userName, string? password, SmtpOAuthTokenProvider? tokenProvider)
    {
        UserName = userName;
        Password = password;
        TokenProvider = tokenProvider;
    }

    /// <summary>The user name (often the mailbox address).</summary>
    public string UserName { get; }

    /// <summary>True for token credentials (XOAUTH2, OAUTHBEARER); false for a password (SCRAM, PLAIN, LOGIN).</summary>
    public bool IsOAuth => TokenProvider is not null;

    internal string? Password { get; }

    internal SmtpOAuthTokenProvider? TokenProvider { get; }

    /// <summary>A user name and password, for SCRAM-SHA-256, SCRAM-SHA-1, PLAIN or LOGIN.</summary>
    /// <param name="userName">The user name; not empty.</param>
    /// <param name="password">The password; not empty.</param>
    /// <exception cref="ArgumentException">The user name or the password is empty.</exception>
    public static SmtpCredentials FromPassword(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentException.ThrowIfNullOrEmpty(password);
        return new SmtpCredentials(userName, password, null);
    }

    /// <summary>A user name and an OAuth 2.0 access token provider, for OAUTHBEARER or XOAUTH2.</summary>
    /// <param name="userName">The user name; not empty.</param>
    /// <param name="tokenProvider">Gives the access token, and a fresh one when the server refused the last as expired.</param>
    /// <exception cref="ArgumentException">The user name is empty.</exception>
    public static SmtpCredentials FromOAuthToken(string userName, SmtpOAuthTokenProvider tokenProvider)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(tokenProvider);
        return new SmtpCredentials(userName, null, tokenProvider);
    }

    /// <summary>The user name and the kind of secret; never the secret itself.</summary>
    public override string ToString() => UserName + (IsOAuth ? " (OAuth token)" : " (password)");
}
