using System;
using System.Text;

namespace DirectMail.Smtp.Auth;

/// <summary>PLAIN (RFC 4616): <c>authzid NUL authcid NUL passwd</c> as the initial response, with no authorization identity.</summary>
internal sealed class SaslPlain(string userName, string password) : SaslMechanism
{
    public override string Name => "PLAIN";

    public override byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        TraceText = $"<user {userName}, password masked>";
        return Encoding.UTF8.GetBytes("\0" + userName + "\0" + password);
    }
}
