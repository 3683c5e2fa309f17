using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;

namespace DirectMail.Doctor;

/// <summary>A DKIM key record, the TXT record at <c>selector._domainkey.domain</c> (RFC 6376 section 3.6.1).</summary>
internal sealed class DkimKeyRecord
{
    private DkimKeyRecord(string keyType, byte[] publicKey, bool isTesting, IReadOnlyList<string>? hashAlgorithms, IReadOnlyList<string> services)
    {
        KeyType = keyType;
        PublicKey = publicKey;
        IsTesting = isTesting;
        HashAlgorithms = hashAlgorithms;
        Services = services;
    }

    /// <summary>The k= tag, lower case: <c>rsa</c> (the default) or <c>ed25519</c> (RFC 8463).</summary>
    public string KeyType { get; }

    /// <summary>The decoded p= tag; empty when the key is revoked (section 3.6.1).</summary>
    public byte[] PublicKey { get; }

    public bool IsRevoked => PublicKey.Length == 0;

    /// <summary>t=y: the domain is testing DKIM, and verifiers may treat signatures as unsigned.</summary>
    public bool IsTesting { get; }

    /// <summary>The h= tag (acceptable hash algorithms); null when absent (all allowed).</summary>
    public IReadOnlyList<string>? HashAlgorithms { get; }

    /// <summary>The s= tag (service types); <c>*</c> when absent.</summary>
    public IReadOnlyList<string> Services { get; }

    /// <summary>Parses a key record; null with the reason when it is not a usable one.</summary>
    public static DkimKeyRecord? Parse(string text, out string? error)
    {
        var tags = TagValueList.Parse(text, out error);
        if (tags is null)
        {
            return null;
        }

        // Section 3.6.1: v= is optional, but when present it must be "DKIM1" and the first tag.
        var version = TagValueList.Get(tags, "v");
        if (version is not null && (version != "DKIM1" || tags[0].Key != "v"))
        {
            error = version != "DKIM1" ? $"v={version}; a key record has v=DKIM1" : "v=DKIM1 must be the first tag";
            return null;
        }

        var keyType = (TagValueList.Get(tags, "k") ?? "rsa").ToLowerInvariant();
        if (keyType is not ("rsa" or "ed25519"))
        {
            error = $"k={keyType} is not a key type verifiers know (rsa, RFC 6376; ed25519, RFC 8463)";
            return null;
        }

        var p = TagValueList.Get(tags, "p");
        if (p is null)
        {
            error = "the p= tag (the public key) is missing";
            return null;
        }

        byte[] key;
        try
        {
            // Section 3.6.1: base64 with folding whitespace allowed inside.
            key = Convert.FromBase64String(new string(p.Where(c => !char.IsWhiteSpace(c)).ToArray()));
        }
        catch (FormatException)
        {
            error = "p= is not valid base64";
            return null;
        }

        var services = (TagValueList.Get(tags, "s") ?? "*").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var flags = (TagValueList.Get(tags, "t") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var hashes = TagValueList.Get(tags, "h")?.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        error = null;
        return new DkimKeyRecord(keyType, key, flags.Contains("y"), hashes, services);
    }

    /// <summary>The length of an Ed25519 public key: p= of a <c>k=ed25519</c> record holds these raw octets (RFC 8463 section 4.2).</summary>
    public const int Ed25519KeyLength = 32;

    /// <summary>
    /// The Ed25519 public key of p=: the 32 raw octets, as RFC 8463 section 4.2 specifies. Null with the reason when p=
    /// holds anything else, naming the usual mistakes: the key wrapped as a SubjectPublicKeyInfo (the base64 of
    /// <c>openssl pkey -pubout</c>), or an RSA key under <c>k=ed25519</c>.
    /// </summary>
    public byte[]? Ed25519Key(out string? error)
    {
        error = null;
        if (PublicKey.Length == Ed25519KeyLength)
        {
            return PublicKey;
        }

        if (PublicKey.Length == Ed25519SpkiPrefix.Length + Ed25519KeyLength && PublicKey.AsSpan().StartsWith(Ed25519SpkiPrefix))
        {
            error = $"p= holds the key as a SubjectPublicKeyInfo ({PublicKey.Length} octets, the base64 of a PEM PUBLIC KEY), not the {Ed25519KeyLength} raw octets RFC 8463 section 4.2 specifies: publish p={Convert.ToBase64String(PublicKey, Ed25519SpkiPrefix.Length, Ed25519KeyLength)}";
            return null;
        }

        using var rsa = ImportRsa(out _);
        error = rsa is not null
            ? $"p= holds an RSA key ({rsa.KeySize} bits) under k=ed25519: an RSA key record says k=rsa"
            : $"p= is {PublicKey.Length} octets; an ed25519 key is the {Ed25519KeyLength} raw octets of the public key (RFC 8463 section 4.2)";
        return null;
    }

    /// <summary>The DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410 section 4) before the 32 key octets.</summary>
    private static ReadOnlySpan<byte> Ed25519SpkiPrefix => [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

    /// <summary>
    /// The RSA public key of p=: a SubjectPublicKeyInfo as section 3.6.1 specifies, or a bare PKCS#1 RSAPublicKey, which
    /// some publishers use and most verifiers take. Null with the reason when it is neither.
    /// </summary>
    public RSA? ImportRsa(out string? error)
    {
        error = null;
        var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(PublicKey, out _);
            return rsa;
        }
        catch (CryptographicException)
        {
        }

        try
        {
            rsa.ImportRSAPublicKey(PublicKey, out _);
            return rsa;
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            error = $"p= is not an RSA public key ({e.Message.TrimEnd('.')})";
            return null;
        }
    }
}
