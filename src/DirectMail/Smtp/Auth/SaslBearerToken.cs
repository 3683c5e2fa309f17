using System;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// What XOAUTH2 and OAUTHBEARER share: the token goes in the initial response; the only challenge after it is the
/// server's JSON error, answered with the mechanism's own "I give up" response so that the server sends its failure.
/// </summary>
internal abstract class SaslBearerToken : SaslMechanism
{
    private bool _sent;
    private bool _tokenRejected;

    public override bool TokenRejected => _tokenRejected;

    public override byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        if (!_sent)
        {
            _sent = true;
            return InitialResponse();
        }

        _tokenRejected |= OAuthErrorChallenge.SaysTokenRejected(challenge);
        return ErrorResponse();
    }

    /// <summary>The user and token, formatted as the mechanism wants; sets <see cref="SaslMechanism.TraceText"/> with the token masked.</summary>
    protected abstract byte[] InitialResponse();

    /// <summary>The response to the error challenge; sets <see cref="SaslMechanism.TraceText"/>.</summary>
    protected abstract byte[] ErrorResponse();
}
