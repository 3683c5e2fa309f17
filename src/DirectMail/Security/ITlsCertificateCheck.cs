using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace DirectMail.Security;

/// <summary>
/// Decides whether the certificate an MX host presented satisfies the policy that applies to it (MTA-STS: PKIX against
/// the MX name; DANE: a TLSA record matched). Called from the TLS handshake's validation callback: it must not block.
/// </summary>
internal interface ITlsCertificateCheck
{
    /// <summary>The posture a session has when this check accepts (MTA-STS, DANE-EE, DANE-TA, PKIX).</summary>
    TlsPostureKind PostureOnSuccess { get; }

    /// <summary>Null when the certificate is accepted; otherwise why not, as TLS-RPT names it.</summary>
    /// <param name="mxHost">The MX host name the session was opened to (the SNI name; DANE-TA checks names against it).</param>
    /// <param name="certificate">The server's leaf certificate.</param>
    /// <param name="chain">The chain as the platform built it (DANE-TA looks for its anchor here), when there is one.</param>
    /// <param name="errors">What the platform's own validation found.</param>
    TlsFailureType? Check(string mxHost, X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors);
}
