using System;
using System.Security.Cryptography;
using Sodium;

namespace DirectMail.Dkim.Ed25519;

/// <summary>
/// An Ed25519 key: RFC 8463 section 3 signs the SHA-256 hash of the canonicalised header data with PureEdDSA
/// (RFC 8032 Ed25519, no context, the 32 octets as the message), by libsodium's <c>crypto_sign_detached</c>. The
/// expanded secret key (seed and public key, 64 octets) is made once; signing shares no mutable state, so no lock.
/// </summary>
internal sealed class Ed25519SigningKey : DkimSigningKey
{
    private const int SignatureSize = 64;
    private readonly byte[] _secretKey;
    private readonly byte[] _publicKey;

    /// <summary>Takes ownership of <paramref name="seed"/> (zeroed here).</summary>
    public Ed25519SigningKey(Ed25519Sha256Algorithm algorithm, byte[] seed)
        : base(algorithm, 256, SignatureSize)
    {
        try
        {
            var pair = PublicKeyAuth.GenerateKeyPair(seed);
            _secretKey = pair.PrivateKey;
            _publicKey = pair.PublicKey;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    public override int SignHash(ReadOnlySpan<byte> sha256, Span<byte> destination)
    {
        var signature = PublicKeyAuth.SignDetached(sha256.ToArray(), _secretKey);
        signature.CopyTo(destination);
        return signature.Length;
    }

    /// <summary>The 32 raw octets of the public key, what the DNS record's <c>p=</c> holds.</summary>
    public byte[] PublicKey() => (byte[])_publicKey.Clone();

    protected override void Dispose(bool disposing)
    {
        CryptographicOperations.ZeroMemory(_secretKey);
        base.Dispose(disposing);
    }
}
