using System;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DirectMail.Security;

/// <summary>
/// The certificates PKIX validation trusts besides the platform's store (<see cref="Delivery.DirectMailOptions.TrustAnchorFile"/>,
/// or given in code by tests): a lab's or a test's own CA. Used for MX certificates under
/// MTA-STS and for the MTA-STS policy host's HTTPS certificate. Immutable once built.
/// </summary>
internal sealed class TrustAnchors
{
    /// <summary>The platform's store only.</summary>
    public static readonly TrustAnchors Platform = new(new X509Certificate2Collection());

    private readonly X509Certificate2Collection _anchors;

    private TrustAnchors(X509Certificate2Collection anchors) => _anchors = anchors;

    /// <summary>True when there is an anchor besides the platform's store.</summary>
    public bool HasAdditional => _anchors.Count > 0;

    /// <summary>The anchors of <paramref name="file"/> (PEM, one or more certificates) and of <paramref name="extra"/>; <see cref="Platform"/> when both are empty.</summary>
    /// <exception cref="ArgumentException">The file cannot be read or holds no certificate.</exception>
    public static TrustAnchors Create(string? file, X509Certificate2Collection? extra)
    {
        var anchors = new X509Certificate2Collection();
        if (!string.IsNullOrEmpty(file))
        {
            try
            {
                anchors.ImportFromPemFile(file);
            }
            catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new ArgumentException($"The trust anchor file {file} could not be read: {e.Message}", nameof(file), e);
            }

            if (anchors.Count == 0)
            {
                throw new ArgumentException($"The trust anchor file {file} holds no PEM certificate.", nameof(file));
            }
        }

        if (extra is not null)
        {
            anchors.AddRange(extra);
        }

        return anchors.Count == 0 ? Platform : new TrustAnchors(anchors);
    }

    /// <summary>
    /// The platform's verdict, amended: a chain the platform could not anchor is built again against the additional
    /// anchors alone (no downloads, no revocation: this runs inside a handshake and must not block).
    /// </summary>
    public SslPolicyErrors Validate(X509Certificate2 certificate, X509Chain? platformChain, SslPolicyErrors errors)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0 || _anchors.Count == 0)
        {
            return errors;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_anchors);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1")); // id-kp-serverAuth
        if (platformChain is not null)
        {
            // The intermediates the server sent.
            chain.ChainPolicy.ExtraStore.AddRange(platformChain.ChainPolicy.ExtraStore);
            foreach (var element in platformChain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate) ? errors & ~SslPolicyErrors.RemoteCertificateChainErrors : errors;
    }

    /// <summary>Why a chain did not validate, as TLS-RPT names it: expired (or not yet valid), untrusted, or another failure.</summary>
    public static TlsFailureType ChainFailure(X509Chain? chain)
    {
        if (chain is null)
        {
            return TlsFailureType.CertificateNotTrusted;
        }

        var untrusted = false;
        foreach (var status in chain.ChainStatus)
        {
            if ((status.Status & X509ChainStatusFlags.NotTimeValid) != 0)
            {
                return TlsFailureType.CertificateExpired;
            }

            untrusted |= (status.Status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0;
        }

        return untrusted ? TlsFailureType.CertificateNotTrusted : TlsFailureType.ValidationFailure;
    }
}
