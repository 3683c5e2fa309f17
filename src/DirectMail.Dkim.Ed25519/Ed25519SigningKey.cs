using System;
using Org.BouncyCastle.Crypto.Parameters;
using Rfc8032 = Org.BouncyCastle.Math.EC.Rfc8032;

namespace DirectMail.Dkim.Ed25519;

/// <summary>
/// An Ed25519 key: RFC 8463 section 3 signs the SHA-256 hash of the canonicalised header data with PureEdDSA
/// (RFC 8032 Ed25519, no context, the 32 octets as the message). BouncyCastle's key keeps its public point once
/// computed and signs without shared state, so no lock is needed.
/// </summary>
internal sealed class Ed25519SigningKey : DkimSigningKey
{
    private readonly Ed25519PrivateKeyParameters _key;

    public Ed25519SigningKey(Ed25519Sha256Algorithm algorithm, Ed25519PrivateKeyParameters key)
        : base(algorithm, 256, Ed25519PrivateKeyParameters.SignatureSize)
    {
        _key = key;
        _key.GeneratePublicKey(); // computed once here, not by the first two signatures at once
    }

    public override int SignHash(ReadOnlySpan<byte> sha256, Span<byte> destination)
    {
        _key.Sign(Rfc8032.Ed25519.Algorithm.Ed25519, null, sha256, destination[..Ed25519PrivateKeyParameters.SignatureSize]);
        return Ed25519PrivateKeyParameters.SignatureSize;
    }

    /// <summary>The 32 raw octets of the public key, what the DNS record's <c>p=</c> holds.</summary>
    public byte[] PublicKey() => _key.GeneratePublicKey().GetEncoded();
}
