using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace DirectMail.Security;

/// <summary>
/// PKIX validation of an MX certificate against the MX host name (RFC 8461 section 4.2, RFC 6125 names as the platform
/// checks them against the SNI name): the platform's trust store plus the <see cref="TrustAnchors"/>. MTA-STS's check.
/// </summary>
internal sealed class PkixCertificateCheck(TrustAnchors anchors, TlsPostureKind postureOnSuccess) : ITlsCertificateCheck
{
    /// <inheritdoc />
    public TlsPostureKind PostureOnSuccess { get; } = postureOnSuccess;

    /// <inheritdoc />
    public TlsFailureType? Check(string mxHost, X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return TlsFailureType.ValidationFailure;
        }

        errors = anchors.Validate(certificate, chain, errors);
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return TlsFailureType.CertificateHostMismatch;
        }

        return (errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 ? TrustAnchors.ChainFailure(chain) : null;
    }
}
