using System;
using System.Formats.Asn1;
using System.Security.Cryptography;

namespace DirectMail.Dkim.Ed25519;

/// <summary>
/// Reads and writes the key containers of RFC 8410: PKCS#8 <c>PrivateKeyInfo</c>/<c>OneAsymmetricKey</c> (RFC 5958) and
/// <c>SubjectPublicKeyInfo</c>, with the algorithm named by its object identifier, so that a key of the wrong kind
/// (RSA, EC, X25519...) is named in the error instead of failing as "unreadable".
/// </summary>
internal static class Ed25519KeyInfo
{
    /// <summary>id-Ed25519 (RFC 8410 section 3).</summary>
    public const string Ed25519Oid = "1.3.101.112";

    /// <summary>The 32-octet seed of an Ed25519 PKCS#8 private key.</summary>
    /// <exception cref="DkimKeyException">Not PKCS#8, or a key of another kind.</exception>
    public static byte[] ReadPrivateSeed(byte[] der)
    {
        string oid;
        byte[] seed;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            if (!info.TryReadInt32(out var version) || version is not (0 or 1))
            {
                throw new AsnContentException("the version is neither 0 (PrivateKeyInfo) nor 1 (OneAsymmetricKey)");
            }

            oid = ReadAlgorithm(info);
            var privateKey = info.ReadOctetString();
            if (oid != Ed25519Oid)
            {
                throw WrongKind(oid, "private");
            }

            // CurvePrivateKey ::= OCTET STRING, inside the privateKey OCTET STRING (RFC 8410 section 7). Attributes [0]
            // and the optional public key [1] may follow; the public key is derived from the seed in any case.
            var inner = new AsnReader(privateKey, AsnEncodingRules.DER);
            seed = inner.ReadOctetString();
            inner.ThrowIfNotEmpty();
            CryptographicOperations.ZeroMemory(privateKey);
        }
        catch (AsnContentException e)
        {
            throw new DkimKeyException($"the private key cannot be read as a PKCS#8 key: {e.Message}", DkimKeyProblem.Unreadable, e);
        }

        if (seed.Length != 32)
        {
            CryptographicOperations.ZeroMemory(seed);
            throw new DkimKeyException($"the private key cannot be read as a PKCS#8 key: an Ed25519 private key has 32 octets, this one {seed.Length}.", DkimKeyProblem.Unreadable);
        }

        return seed;
    }

    /// <summary>The 32 octets of an Ed25519 <c>SubjectPublicKeyInfo</c>.</summary>
    /// <exception cref="DkimKeyException">Unreadable, or a key of another kind.</exception>
    public static byte[] ReadPublicKey(byte[] der)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var oid = ReadAlgorithm(info);
            var key = info.ReadBitString(out var unusedBits);
            info.ThrowIfNotEmpty();
            if (oid != Ed25519Oid)
            {
                throw WrongKind(oid, "public");
            }

            return unusedBits == 0 && key.Length == 32
                ? key
                : throw new DkimKeyException($"the public key cannot be read: an Ed25519 public key has 32 octets, this one {key.Length}.", DkimKeyProblem.Unreadable);
        }
        catch (AsnContentException e)
        {
            throw new DkimKeyException($"the public key cannot be read: {e.Message}", DkimKeyProblem.Unreadable, e);
        }
    }

    /// <summary>PKCS#8 (version 0, as <c>openssl genpkey -algorithm ed25519</c> writes) of a 32-octet seed.</summary>
    public static byte[] WritePrivateKey(ReadOnlySpan<byte> seed)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(0);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Ed25519Oid);
            }

            Span<byte> inner = stackalloc byte[34];
            inner[0] = 0x04; // OCTET STRING
            inner[1] = 32;
            seed.CopyTo(inner[2..]);
            writer.WriteOctetString(inner);
            CryptographicOperations.ZeroMemory(inner);
        }

        return writer.Encode();
    }

    private static string ReadAlgorithm(AsnReader info)
    {
        var algorithm = info.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        // RFC 8410 section 3: the parameters MUST be absent for Ed25519; other algorithms' (RSA's NULL, EC's curve) are skipped.
        if (oid == Ed25519Oid)
        {
            algorithm.ThrowIfNotEmpty();
        }

        return oid;
    }

    private static DkimKeyException WrongKind(string oid, string which)
    {
        if (oid == "1.2.840.113549.1.1.1" && which == "private")
        {
            return new DkimKeyException("the PEM holds an RSA private key, not an Ed25519 key: sign with it as rsa-sha256 (the default Algorithm).", DkimKeyProblem.WrongKind);
        }

        var kind = oid switch
        {
            "1.2.840.113549.1.1.1" or "1.2.840.113549.1.1.10" => "an RSA",
            "1.2.840.10045.2.1" => "an EC",
            "1.2.840.10040.4.1" => "a DSA",
            "1.3.101.113" => "an Ed448",
            "1.3.101.110" => "an X25519",
            "1.3.101.111" => "an X448",
            _ => $"a {oid}",
        };
        return new DkimKeyException($"the PEM holds {kind} {which} key, not an Ed25519 key{(which == "private" ? " (openssl genpkey -algorithm ed25519 makes one)" : string.Empty)}.", DkimKeyProblem.WrongKind);
    }
}
