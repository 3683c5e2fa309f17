using System;
using System.Text;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// LOGIN (draft-murchison-sasl-login): the server prompts twice (<c>Username:</c>, <c>Password:</c>); no initial
/// response, as the servers that only know LOGIN (old Exchange) do not all take one.
/// </summary>
internal sealed class SaslLogin(string userName, string password) : SaslMechanism
{
    private int _step;

    public override string Name => "LOGIN";

    public override bool HasInitialResponse => false;

    public override byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        // The prompts' text is not standard (some servers localise it): the order decides.
        switch (_step++)
        {
            case 0:
                TraceText = $"<user {userName}>";
                return Encoding.UTF8.GetBytes(userName);
            case 1:
                TraceText = "<password masked>";
                return Encoding.UTF8.GetBytes(password);
            default:
                throw new SaslException("The server sent a third LOGIN challenge; LOGIN has two.");
        }
    }
}
