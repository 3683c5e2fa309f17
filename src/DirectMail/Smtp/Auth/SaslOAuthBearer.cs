using System;
using System.Text;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// OAUTHBEARER (RFC 7628): <c>n,a=U, ^A auth=Bearer T ^A ^A</c> as the initial response. A refused token comes back
/// as a 334 JSON error, answered with a single ^A (section 3.2.3), after which the server sends its failure.
/// </summary>
internal sealed class SaslOAuthBearer(string userName, string token) : SaslMechanism
{
    private bool _sent;
    private bool _tokenRejected;

    public override string Name => "OAUTHBEARER";

    public override bool TokenRejected => _tokenRejected;

    public override byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        if (!_sent)
        {
            _sent = true;
            var authzid = SaslScram.EscapeName(userName);
            TraceText = $"<n,a={authzid}, auth=Bearer masked>";
            return Encoding.UTF8.GetBytes("n,a=" + authzid + ",\u0001auth=Bearer " + token + "\u0001\u0001");
        }

        _tokenRejected |= OAuthErrorChallenge.SaysTokenRejected(challenge);
        TraceText = "<^A>";
        return [0x01];
    }
}
