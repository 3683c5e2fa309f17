using System;
using System.Collections.Generic;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DirectMail.Security.Dane;

/// <summary>
/// The DANE certificate check of one TLS handshake with one MX host (RFC 7672 section 3, RFC 7671): the server's
/// certificate must match one of the host's usable TLSA records. DANE-EE(3) matches the server's own certificate or
/// key, whatever its names and dates say (RFC 7672 section 3.1.1); DANE-TA(2) matches a trust anchor in the chain the
/// server presented, and then the chain from the leaf to that anchor must be valid now and the leaf must name the
/// MX host or the TLSA base domain (RFC 7672 sections 3.1.2 and 3.2.2). DANE-EE records are tried first. Create one
/// per handshake: it remembers which usage matched for <see cref="PostureOnSuccess"/>.
/// </summary>
internal sealed class DaneCertificateCheck : ITlsCertificateCheck
{
    private readonly TlsaLookup _lookup;
    private readonly TimeProvider _time;
    private readonly bool _hasEe;
    private TlsPostureKind _matched;

    /// <param name="lookup">The host's TLSA records; <see cref="TlsaLookupStatus.Usable"/>.</param>
    /// <param name="timeProvider">The clock DANE-TA chains are validated at; null for <see cref="TimeProvider.System"/>.</param>
    public DaneCertificateCheck(TlsaLookup lookup, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        if (lookup.Status != TlsaLookupStatus.Usable)
        {
            throw new ArgumentException($"A DANE certificate check needs usable TLSA records; the lookup is {lookup.Status}.", nameof(lookup));
        }

        _lookup = lookup;
        _time = timeProvider ?? TimeProvider.System;
        foreach (var record in lookup.Usable)
        {
            _hasEe |= record.Usage == TlsaAssociation.DaneEe;
        }
    }

    /// <summary>DANE-EE or DANE-TA: the usage that matched once <see cref="Check"/> accepted; before, the one a match would most likely be.</summary>
    public TlsPostureKind PostureOnSuccess => _matched != TlsPostureKind.None ? _matched : _hasEe ? TlsPostureKind.DaneEe : TlsPostureKind.DaneTa;

    /// <summary>The record that matched, once <see cref="Check"/> accepted.</summary>
    public TlsaAssociation? MatchedRecord { get; private set; }

    /// <summary>Why <see cref="Check"/> refused, as a sentence (for the delivery report and TLS-RPT's detail), or null.</summary>
    public string? FailureDetail { get; private set; }

    /// <inheritdoc />
    public TlsFailureType? Check(string mxHost, X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        ArgumentNullException.ThrowIfNull(mxHost);
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return Refuse(TlsFailureType.ValidationFailure, $"{mxHost} presented no certificate, and its TLSA records require one.");
        }

        byte[]? leafKey = null;
        var anyTa = false;
        foreach (var record in _lookup.Usable)
        {
            if (record.Usage != TlsaAssociation.DaneEe)
            {
                anyTa = true;
                continue;
            }

            if (Matches(record, certificate, ref leafKey))
            {
                return Accept(record, TlsPostureKind.DaneEe);
            }
        }

        if (!anyTa)
        {
            return Refuse(TlsFailureType.TlsaInvalid, $"the certificate of {mxHost} matches none of its {_lookup.Usable.Length} DANE-EE TLSA record(s) at {_lookup.BaseDomain}.");
        }

        var presented = Presented(certificate, chain);
        TlsFailureType? worst = null;
        string? detail = null;
        foreach (var record in _lookup.Usable)
        {
            if (record.Usage != TlsaAssociation.DaneTa)
            {
                continue;
            }

            foreach (var anchor in Anchors(record, presented))
            {
                var failure = ValidateTo(anchor, certificate, presented, mxHost, out var why);
                if (failure is null)
                {
                    return Accept(record, TlsPostureKind.DaneTa);
                }

                // A chain that reached a matching anchor and failed only on dates or names says more than "no match".
                worst ??= failure;
                detail ??= why;
            }
        }

        return Refuse(worst ?? TlsFailureType.TlsaInvalid, detail ?? $"the certificate of {mxHost} and the chain it presented match none of its {_lookup.Usable.Length} usable TLSA record(s) at {_lookup.BaseDomain}.");
    }

    private TlsFailureType? Accept(TlsaAssociation record, TlsPostureKind posture)
    {
        _matched = posture;
        MatchedRecord = record;
        FailureDetail = null;
        return null;
    }

    private TlsFailureType? Refuse(TlsFailureType failure, string detail)
    {
        FailureDetail = detail;
        return failure;
    }

    /// <summary>Whether the selected content of <paramref name="certificate"/> matches the record (RFC 6698 section 2.1).</summary>
    /// <param name="record">A usable record.</param>
    /// <param name="certificate">The certificate.</param>
    /// <param name="publicKeyInfo">Its SubjectPublicKeyInfo once exported, kept across calls for the same certificate.</param>
    internal static bool Matches(TlsaAssociation record, X509Certificate2 certificate, ref byte[]? publicKeyInfo)
    {
        ReadOnlySpan<byte> content = record.Selector == TlsaAssociation.FullCertificate
            ? certificate.RawDataMemory.Span
            : publicKeyInfo ??= certificate.PublicKey.ExportSubjectPublicKeyInfo();
        switch (record.MatchingType)
        {
            case TlsaAssociation.Exact:
                return content.SequenceEqual(record.Data);
            case TlsaAssociation.Sha256:
            {
                Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
                SHA256.HashData(content, digest);
                return digest.SequenceEqual(record.Data);
            }

            case TlsaAssociation.Sha512:
            {
                Span<byte> digest = stackalloc byte[SHA512.HashSizeInBytes];
                SHA512.HashData(content, digest);
                return digest.SequenceEqual(record.Data);
            }

            default:
                return false; // unusable records never get here
        }
    }

    /// <summary>The certificates the server presented (and those the platform's chain holds), the leaf first.</summary>
    private static List<X509Certificate2> Presented(X509Certificate2 leaf, X509Chain? chain)
    {
        var presented = new List<X509Certificate2> { leaf };
        if (chain is null)
        {
            return presented;
        }

        // SslStream puts the certificates the server sent in ExtraStore; the elements are what the platform built.
        foreach (var certificate in chain.ChainPolicy.ExtraStore)
        {
            AddOnce(presented, certificate);
        }

        foreach (var element in chain.ChainElements)
        {
            AddOnce(presented, element.Certificate);
        }

        return presented;
    }

    private static void AddOnce(List<X509Certificate2> certificates, X509Certificate2 certificate)
    {
        foreach (var known in certificates)
        {
            if (known.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
            {
                return;
            }
        }

        certificates.Add(certificate);
    }

    /// <summary>
    /// The presented certificates that match a DANE-TA record; for a <c>2 0 0</c> record (the whole anchor certificate)
    /// that the server did not send, the record's own certificate (RFC 7671 section 5.2.2).
    /// </summary>
    private static IEnumerable<X509Certificate2> Anchors(TlsaAssociation record, List<X509Certificate2> presented)
    {
        var found = false;
        foreach (var certificate in presented)
        {
            byte[]? key = null;
            if (Matches(record, certificate, ref key))
            {
                found = true;
                yield return certificate;
            }
        }

        if (!found && record.Selector == TlsaAssociation.FullCertificate && record.MatchingType == TlsaAssociation.Exact)
        {
            X509Certificate2? anchor;
            try
            {
#if NET9_0_OR_GREATER
                anchor = X509CertificateLoader.LoadCertificate(record.Data);
#else
                anchor = new X509Certificate2(record.Data);
#endif
            }
            catch (CryptographicException)
            {
                anchor = null; // not a certificate: nothing to anchor to
            }

            if (anchor is not null)
            {
                yield return anchor;
            }
        }
    }

    /// <summary>The chain from the leaf to <paramref name="anchor"/>, checked now, and the leaf's names (RFC 7672 section 3.2.2).</summary>
    private TlsFailureType? ValidateTo(X509Certificate2 anchor, X509Certificate2 leaf, List<X509Certificate2> presented, string mxHost, out string? why)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust; // never the system's roots: DNSSEC names the anchor
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // RFC 7672 section 3.1.2: DANE is the trust, no CRL or OCSP
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.DisableCertificateDownloads = true;

        // The platform trusts only self-signed roots; an intermediate anchor (RFC 7671 section 5.2.2 allows any issuer)
        // joins the chain as an extra certificate, and the links below it are checked one by one.
        if (anchor.SubjectName.RawData.AsSpan().SequenceEqual(anchor.IssuerName.RawData))
        {
            chain.ChainPolicy.CustomTrustStore.Add(anchor);
        }
        else
        {
            chain.ChainPolicy.ExtraStore.Add(anchor);
        }

        for (var i = 1; i < presented.Count; i++)
        {
            chain.ChainPolicy.ExtraStore.Add(presented[i]);
        }

        chain.Build(leaf); // the verdict is read link by link below

        var elements = chain.ChainElements;
        var at = -1;
        for (var i = 0; i < elements.Count && at < 0; i++)
        {
            if (elements[i].Certificate.RawDataMemory.Span.SequenceEqual(anchor.RawDataMemory.Span))
            {
                at = i;
            }
        }

        if (at < 0)
        {
            why = null; // the leaf does not chain to this anchor (another CA, or a forged leaf whose issuer is not the anchor)
            return TlsFailureType.TlsaInvalid;
        }

        // Every certificate below the anchor: signed by the next, of the right kind, within its dates. What is above
        // the anchor (an untrusted root, a missing one) does not matter: the anchor is trusted through DNSSEC.
        var expired = false;
        for (var i = 0; i < at; i++)
        {
            foreach (var status in elements[i].ChainElementStatus)
            {
                switch (status.Status)
                {
                    case X509ChainStatusFlags.NoError or X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain:
                        break;
                    case X509ChainStatusFlags.NotTimeValid:
                        expired = true;
                        break;
                    default:
                        why = $"the certificate chain of {mxHost} reaches its DANE-TA trust anchor ({anchor.Subject}), but {elements[i].Certificate.Subject} is not valid in it: {status.StatusInformation.Trim()}";
                        return TlsFailureType.TlsaInvalid;
                }
            }
        }

        if (expired)
        {
            why = $"the certificate chain of {mxHost} reaches its DANE-TA trust anchor ({anchor.Subject}), but a certificate in it has expired or is not yet valid.";
            return TlsFailureType.CertificateExpired;
        }

        var baseDomain = _lookup.BaseDomain;
        if (leaf.MatchesHostname(mxHost) || (baseDomain is not null && leaf.MatchesHostname(baseDomain)))
        {
            why = null;
            return null;
        }

        why = $"the certificate of {mxHost} chains to its DANE-TA trust anchor ({anchor.Subject}), but names neither {mxHost} nor the TLSA base domain {baseDomain} (RFC 7672 section 3.2.2).";
        return TlsFailureType.CertificateHostMismatch;
    }
}
