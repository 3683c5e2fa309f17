using System;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// The client side of one SASL mechanism for one authentication exchange: each server challenge in, the client's
/// response out. One instance per AUTH command; it holds the exchange's state (a SCRAM nonce, the expected server
/// signature) and is thrown away after it.
/// </summary>
internal abstract class SaslMechanism
{
    /// <summary>The mechanism's name on the wire (<c>SCRAM-SHA-256</c>).</summary>
    public abstract string Name { get; }

    /// <summary>True when the first response goes with the AUTH command itself (RFC 4954 section 4, the initial response).</summary>
    public virtual bool HasInitialResponse => true;

    /// <summary>
    /// True once the server proved it knows the secret (SCRAM's server signature). Mechanisms that cannot prove it
    /// (PLAIN, LOGIN, tokens) rely on the validated TLS certificate and say true.
    /// </summary>
    public virtual bool IsServerAuthenticated => true;

    /// <summary>
    /// True when the server answered with an error that says the OAuth token expired or is invalid (RFC 7628 section
    /// 3.2.2's <c>invalid_token</c>, Google's <c>"status":"401"</c>): a fresh token may succeed.
    /// </summary>
    public virtual bool TokenRejected => false;

    /// <summary>How the last response appears in the transcript: what it says, with every secret masked.</summary>
    public string TraceText { get; protected set; } = string.Empty;

    /// <summary>The response to <paramref name="challenge"/> (empty for the initial response).</summary>
    /// <exception cref="SaslException">The challenge is not what the mechanism allows (a SCRAM nonce that is not ours, a wrong server signature).</exception>
    public abstract byte[] Respond(ReadOnlySpan<byte> challenge);

    /// <summary>The mechanism for <paramref name="mechanism"/> with <paramref name="credentials"/> (and the token fetched for them).</summary>
    public static SaslMechanism Create(SmtpAuthMechanism mechanism, SmtpCredentials credentials, string? token) => mechanism switch
    {
        SmtpAuthMechanism.Plain => new SaslPlain(credentials.UserName, credentials.Password!),
        SmtpAuthMechanism.Login => new SaslLogin(credentials.UserName, credentials.Password!),
        SmtpAuthMechanism.ScramSha1 or SmtpAuthMechanism.ScramSha256 => new SaslScram(mechanism, credentials.UserName, credentials.Password!),
        SmtpAuthMechanism.XOAuth2 => new SaslXOAuth2(credentials.UserName, token!),
        SmtpAuthMechanism.OAuthBearer => new SaslOAuthBearer(credentials.UserName, token!),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, null),
    };

    /// <summary>The name of <paramref name="mechanism"/> on the wire, as servers announce it after AUTH in EHLO.</summary>
    public static string WireName(SmtpAuthMechanism mechanism) => mechanism switch
    {
        SmtpAuthMechanism.Plain => "PLAIN",
        SmtpAuthMechanism.Login => "LOGIN",
        SmtpAuthMechanism.ScramSha1 => "SCRAM-SHA-1",
        SmtpAuthMechanism.ScramSha256 => "SCRAM-SHA-256",
        SmtpAuthMechanism.XOAuth2 => "XOAUTH2",
        SmtpAuthMechanism.OAuthBearer => "OAUTHBEARER",
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, null),
    };

    /// <summary>Reads a mechanism's wire name (<c>SCRAM-SHA-256</c>) or enum name (<c>ScramSha256</c>), any case.</summary>
    public static bool TryParse(string value, out SmtpAuthMechanism mechanism)
    {
        foreach (var candidate in Enum.GetValues<SmtpAuthMechanism>())
        {
            if (string.Equals(value, WireName(candidate), StringComparison.OrdinalIgnoreCase) || string.Equals(value, candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                mechanism = candidate;
                return true;
            }
        }

        mechanism = default;
        return false;
    }
}
