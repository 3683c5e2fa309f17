using System;

namespace DirectMail.Dkim;

/// <summary>
/// A private key that makes DKIM signatures, as read by its <see cref="DkimSigningAlgorithm"/>. The signer hashes the
/// canonicalised header data with SHA-256 (RFC 6376 section 3.7) and gives the hash to <see cref="SignHash"/>: RSA signs
/// it with PKCS#1 v1.5, Ed25519 (RFC 8463 section 3) signs the 32 octets as its message (PureEdDSA).
/// </summary>
/// <remarks>Implementations are thread-safe: one key signs the messages of every send at once.</remarks>
public abstract class DkimSigningKey : IDisposable
{
    /// <summary>Creates the key's description.</summary>
    /// <param name="algorithm">The algorithm that read it.</param>
    /// <param name="keySize">The key's size in bits (RSA: the modulus; Ed25519: 256).</param>
    /// <param name="signatureLength">The most octets one signature takes.</param>
    protected DkimSigningKey(DkimSigningAlgorithm algorithm, int keySize, int signatureLength)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keySize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(signatureLength);
        Algorithm = algorithm;
        KeySize = keySize;
        SignatureLength = signatureLength;
    }

    /// <summary>The algorithm that read the key, which names the signature (<c>a=</c>).</summary>
    public DkimSigningAlgorithm Algorithm { get; }

    /// <summary>The key's size in bits.</summary>
    public int KeySize { get; }

    /// <summary>The most octets one signature takes (RSA: the modulus length; Ed25519: 64).</summary>
    public int SignatureLength { get; }

    /// <summary>Signs the SHA-256 hash of the canonicalised header data and returns the signature's length.</summary>
    /// <param name="sha256">The 32-octet hash.</param>
    /// <param name="destination">At least <see cref="SignatureLength"/> octets.</param>
    /// <returns>The octets written.</returns>
    public abstract int SignHash(ReadOnlySpan<byte> sha256, Span<byte> destination);

    /// <summary>Releases the key.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the key's resources.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }
}
