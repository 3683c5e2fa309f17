using System.Text;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// XOAUTH2 (Google's and Microsoft's): <c>user=U ^A auth=Bearer T ^A ^A</c> as the initial response. A refused token
/// comes back as a 334 JSON error, answered with an empty line, after which the server sends its 5xx.
/// </summary>
internal sealed class SaslXOAuth2(string userName, string token) : SaslBearerToken
{
    public override string Name => "XOAUTH2";

    protected override byte[] InitialResponse()
    {
        TraceText = $"<user={userName} auth=Bearer masked>";
        return Encoding.UTF8.GetBytes("user=" + userName + "\u0001auth=Bearer " + token + "\u0001\u0001");
    }

    protected override byte[] ErrorResponse()
    {
        TraceText = "<empty>";
        return [];
    }
}
