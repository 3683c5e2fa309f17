using System.Net.Security;
using System.Security.Authentication;

namespace DirectMail.Security;

/// <summary>How the session that delivered (or last tried) a recipient was protected: the kind of protection, and the TLS version and cipher suite when encrypted.</summary>
public sealed class TlsPosture
{
    /// <summary>No TLS at all (a plaintext session).</summary>
    internal static readonly TlsPosture Plaintext = new(TlsPostureKind.None, null, null);

    internal TlsPosture(TlsPostureKind kind, SslProtocols? protocol, TlsCipherSuite? cipherSuite)
    {
        Kind = kind;
        Protocol = protocol;
        CipherSuite = cipherSuite;
    }

    /// <summary>None, unauthenticated, PKIX-validated, MTA-STS enforced, DANE-EE or DANE-TA.</summary>
    public TlsPostureKind Kind { get; }

    /// <summary>The TLS version negotiated; null without TLS.</summary>
    public SslProtocols? Protocol { get; }

    /// <summary>The cipher suite negotiated; null without TLS.</summary>
    public TlsCipherSuite? CipherSuite { get; }

    /// <inheritdoc />
    public override string ToString() => Protocol is null ? Kind.ToString() : $"{Kind} ({Protocol}, {CipherSuite})";
}
