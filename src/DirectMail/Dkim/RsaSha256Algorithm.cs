using System;
using System.Formats.Asn1;
using System.Security.Cryptography;

namespace DirectMail.Dkim;

/// <summary><c>rsa-sha256</c>: RSA keys of 1024 to 4096 bits in PKCS#1 or PKCS#8 PEM, read by .NET's RSA.</summary>
internal sealed class RsaSha256Algorithm : DkimSigningAlgorithm
{
    public RsaSha256Algorithm()
        : base("rsa-sha256", "rsa")
    {
    }

    public override DkimSigningKey ImportPrivateKey(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new DkimKeyException("the private key is not PEM (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----).", DkimKeyProblem.NotPem);
        }

        var label = pem.AsSpan()[fields.Label];
        if (!label.SequenceEqual("RSA PRIVATE KEY") && !label.SequenceEqual("PRIVATE KEY"))
        {
            throw new DkimKeyException($"the PEM holds '{label}', not an RSA private key (RSA PRIVATE KEY or PRIVATE KEY); encrypted keys are not supported.", DkimKeyProblem.NotPem);
        }

        if (label.SequenceEqual("PRIVATE KEY") && Pkcs8AlgorithmName(pem.AsSpan()[fields.Base64Data]) is { } other)
        {
            var hint = other == "Ed25519"
                ? " ed25519-sha256 signing is in the package DirectMail.Dkim.Ed25519 (Algorithm \"ed25519-sha256\" and AddDkimEd25519(), or UseAlgorithm(DkimEd25519.Algorithm)); keep an RSA key beside it, since most receivers verify only rsa-sha256."
                : " DKIM signs with RSA (rsa-sha256) or Ed25519 (ed25519-sha256, package DirectMail.Dkim.Ed25519).";
            throw new DkimKeyException($"the PEM holds an {other} private key, not an RSA key.{hint}", DkimKeyProblem.WrongKind);
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem.AsSpan()[fields.Location]);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new DkimKeyException($"the private key cannot be read as an RSA key: {e.Message}", DkimKeyProblem.Unreadable, e);
        }

        if (rsa.KeySize is < 1024 or > 4096)
        {
            var size = rsa.KeySize;
            rsa.Dispose();
            throw new DkimKeyException($"the RSA key has {size} bits; DKIM keys must have 1024 to 4096 (RFC 8301: at least 1024, 2048 recommended).", DkimKeyProblem.WrongSize);
        }

        return new RsaSigningKey(this, rsa);
    }

    /// <summary>The name of a PKCS#8 key's algorithm when it is not RSA and is known (Ed25519, Ed448, X25519, X448, EC, DSA); null for RSA or an unreadable key.</summary>
    private static string? Pkcs8AlgorithmName(ReadOnlySpan<char> base64)
    {
        var der = new byte[base64.Length];
        if (!Convert.TryFromBase64Chars(base64, der, out var length))
        {
            return null;
        }

        try
        {
            var info = new AsnReader(der.AsMemory(0, length), AsnEncodingRules.BER).ReadSequence();
            info.ReadInteger();
            var oid = info.ReadSequence().ReadObjectIdentifier();
            return oid switch
            {
                "1.3.101.112" => "Ed25519",
                "1.3.101.113" => "Ed448",
                "1.3.101.110" => "X25519",
                "1.3.101.111" => "X448",
                "1.2.840.10045.2.1" => "EC",
                "1.2.840.10040.4.1" => "DSA",
                _ => null,
            };
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    /// <summary>An RSA key: PKCS#1 v1.5 signatures over the SHA-256 hash; .NET's RSA serialised by a lock.</summary>
    private sealed class RsaSigningKey(RsaSha256Algorithm algorithm, RSA rsa) : DkimSigningKey(algorithm, rsa.KeySize, (rsa.KeySize + 7) / 8)
    {
        private readonly object _lock = new();

        public override int SignHash(ReadOnlySpan<byte> sha256, Span<byte> destination)
        {
            bool signed;
            int written;
            lock (_lock)
            {
                signed = rsa.TrySignHash(sha256, destination, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, out written);
            }

            return signed ? written : throw new CryptographicException("The RSA signature did not fit its buffer.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rsa.Dispose();
            }
        }
    }
}
