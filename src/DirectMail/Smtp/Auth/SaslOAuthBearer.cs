using System.Text;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// OAUTHBEARER (RFC 7628): <c>n,a=U, ^A auth=Bearer T ^A ^A</c> as the initial response. A refused token comes back
/// as a 334 JSON error, answered with a single ^A (section 3.2.3), after which the server sends its failure.
/// </summary>
internal sealed class SaslOAuthBearer(string userName, string token) : SaslBearerToken
{
    public override string Name => "OAUTHBEARER";

    protected override byte[] InitialResponse()
    {
        var authzid = SaslScram.EscapeName(userName);
        TraceText = $"<n,a={authzid}, auth=Bearer masked>";
        return Encoding.UTF8.GetBytes("n,a=" + authzid + ",\u0001auth=Bearer " + token + "\u0001\u0001");
    }

    protected override byte[] ErrorResponse()
    {
        TraceText = "<^A>";
        return [0x01];
    }
}
