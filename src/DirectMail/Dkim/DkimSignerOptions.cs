using System;
using System.Collections.Generic;
using System.IO;

namespace DirectMail.Dkim;

/// <summary>
/// One DKIM key of one sender domain: the signing domain (<c>d=</c>), the selector (<c>s=</c>) under which the public
/// key is published as <c>selector._domainkey.domain</c>, the private key, and how to sign. Listed in
/// <c>DirectMail:Dkim</c> (<see cref="Delivery.DirectMailOptions.Dkim"/>); bindable from configuration.
/// </summary>
/// <remarks>
/// A domain may have several entries: every key of the message's domain signs it, in one pass over the message. For
/// <c>ed25519-sha256</c> (RFC 8463, package DirectMail.Dkim.Ed25519) give the domain an RSA key and an Ed25519 key:
/// Gmail, Outlook and Yahoo verify only <c>rsa-sha256</c>, so a domain with an Ed25519 key alone is signed with nothing
/// they check (allowed, never the default).
/// </remarks>
public sealed class DkimSignerOptions
{
    /// <summary>
    /// Headers signed by default, in this order, when present. Those a message may have at most once (From, Reply-To,
    /// Sender, To, Cc, Subject, Date, Message-ID, In-Reply-To, References, the MIME and List fields) are signed once more
    /// than they occur, absent ones included, so that none can be added without breaking the signature.
    /// </summary>
    public static IReadOnlyList<string> DefaultHeaders { get; } =
    [
        "From", "Reply-To", "Sender", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
        "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Resent-From", "Resent-To", "Resent-Date",
    ];

    /// <summary>The signing domain (<c>d=</c>): the From domain for DMARC alignment, or a parent of it. Required.</summary>
    public string Domain { get; set; } = string.Empty;

    /// <summary>The selector (<c>s=</c>): the public key is the TXT record <c>{Selector}._domainkey.{Domain}</c>. Required.</summary>
    public string Selector { get; set; } = string.Empty;

    /// <summary>
    /// The private key as PEM text. RSA: <c>-----BEGIN RSA PRIVATE KEY-----</c> (PKCS#1) or <c>-----BEGIN PRIVATE KEY-----</c>
    /// (PKCS#8), 1024 to 4096 bits (2048 recommended). Ed25519: PKCS#8 (<c>-----BEGIN PRIVATE KEY-----</c>, as
    /// <c>openssl genpkey -algorithm ed25519</c> writes). Either this or <see cref="PrivateKeyFile"/>.
    /// </summary>
    public string? PrivateKey { get; set; }

    /// <summary>The path of a PEM file holding the private key, read when the signer is made. Either this or <see cref="PrivateKey"/>.</summary>
    public string? PrivateKeyFile { get; set; }

    /// <summary>
    /// The signing algorithm (<c>a=</c>) the key is for: <c>rsa-sha256</c> (default, built in) or <c>ed25519-sha256</c>
    /// (RFC 8463), which needs the package DirectMail.Dkim.Ed25519: its <c>AddDkimEd25519</c> gives the entries that
    /// name it their implementation (entries bound from configuration included), or call <see cref="UseAlgorithm"/>.
    /// </summary>
    public string Algorithm { get; set; } = "rsa-sha256";

    // The implementation of Algorithm when it is not the built-in RSA, set by UseAlgorithm (a field: the configuration
    // binder's generator would otherwise try to bind it).
    private DkimSigningAlgorithm? _implementation;

    /// <summary>Signs with <paramref name="algorithm"/>: sets <see cref="Algorithm"/> to its name and keeps it to read the key with.</summary>
    /// <param name="algorithm">The algorithm, for example <c>DkimEd25519.Algorithm</c> of DirectMail.Dkim.Ed25519.</param>
    /// <returns>These options.</returns>
    public DkimSignerOptions UseAlgorithm(DkimSigningAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        Algorithm = algorithm.Name;
        _implementation = algorithm;
        return this;
    }

    /// <summary>The algorithm that reads the key: the built-in RSA, or the one given to <see cref="UseAlgorithm"/>.</summary>
    internal DkimSigningAlgorithm ResolveAlgorithm()
    {
        var name = string.IsNullOrWhiteSpace(Algorithm) ? DkimSigningAlgorithm.RsaSha256.Name : Algorithm.Trim();
        if (_implementation is { } implementation && string.Equals(implementation.Name, name, StringComparison.OrdinalIgnoreCase))
        {
            return implementation;
        }

        if (string.Equals(name, DkimSigningAlgorithm.RsaSha256.Name, StringComparison.OrdinalIgnoreCase))
        {
            return DkimSigningAlgorithm.RsaSha256;
        }

        var where = $"DirectMail:Dkim entry for '{Domain}'";
        throw new ArgumentException(
            string.Equals(name, "ed25519-sha256", StringComparison.OrdinalIgnoreCase)
                ? $"{where}: Algorithm 'ed25519-sha256' needs the package DirectMail.Dkim.Ed25519: call AddDkimEd25519() on AddDirectMail(...), or UseAlgorithm(DkimEd25519.Algorithm) on the options."
                : $"{where}: Algorithm '{name}' is not a DKIM signing algorithm DirectMail knows: 'rsa-sha256' (default) or 'ed25519-sha256' (package DirectMail.Dkim.Ed25519).",
            nameof(Algorithm));
    }

    /// <summary>How the header is canonicalised. Default <see cref="DkimCanonicalization.Relaxed"/>.</summary>
    public DkimCanonicalization HeaderCanonicalization { get; set; } = DkimCanonicalization.Relaxed;

    /// <summary>How the body is canonicalised. Default <see cref="DkimCanonicalization.Relaxed"/>.</summary>
    public DkimCanonicalization BodyCanonicalization { get; set; } = DkimCanonicalization.Relaxed;

    /// <summary>
    /// The header fields to sign, in order, when present (each as many times as it occurs). Empty (default) signs
    /// <see cref="DefaultHeaders"/>. <c>From</c> is always signed. Every listed field that RFC 5322 allows at most once
    /// (From, Sender, Reply-To, To, Cc, Bcc, Subject, Date, Message-ID, In-Reply-To, References, MIME-Version,
    /// Content-Type, Content-Transfer-Encoding, Content-Disposition, Content-ID, Content-Description, List-Id,
    /// List-Unsubscribe, List-Unsubscribe-Post) is signed once more than it occurs, so that no second one can be added
    /// without breaking the signature. Each name must be an RFC 5322 field name: printable US-ASCII (33 to 126) except
    /// the colon.
    /// </summary>
    public List<string> Headers { get; set; } = new();

    /// <summary>Writes the signing time (<c>t=</c>). Default true.</summary>
    public bool IncludeTimestamp { get; set; } = true;

    /// <summary>
    /// How long the signature stays valid: written as the expiry <c>x=</c> (signing time plus this), and implies
    /// <c>t=</c>. Null (default) for no expiry. A few days covers queued and retried delivery.
    /// </summary>
    public TimeSpan? SignatureLifetime { get; set; }

    /// <summary>Checks the options, the key included (it is read and parsed), and throws <see cref="ArgumentException"/> naming the first wrong one.</summary>
    public void Validate()
    {
        using var signer = new DkimSigner(this);
    }

    internal void ValidateFields()
    {
        var where = $"DirectMail:Dkim entry for '{Domain}'";
        if (string.IsNullOrWhiteSpace(Domain))
        {
            throw new ArgumentException("A DKIM key needs its Domain (the signing domain, d=).", nameof(Domain));
        }

        if (string.IsNullOrWhiteSpace(Selector) || !DkimKeyGenerator.IsDnsLabels(Selector))
        {
            throw new ArgumentException($"{where}: Selector '{Selector}' must be one or more DNS labels (letters, digits, '-', separated by '.').", nameof(Selector));
        }

        if (string.IsNullOrWhiteSpace(PrivateKey) == string.IsNullOrWhiteSpace(PrivateKeyFile))
        {
            throw new ArgumentException($"{where}: set exactly one of PrivateKey (PEM text) and PrivateKeyFile (a PEM file's path).", nameof(PrivateKey));
        }

        if (SignatureLifetime is { } lifetime && lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{where}: SignatureLifetime must be positive; it is {lifetime}.", nameof(SignatureLifetime));
        }

        foreach (var header in Headers)
        {
            // field-name = 1*ftext, ftext = %d33-57 / %d59-126 (RFC 5322 section 3.6.8): no control, space, colon or non-ASCII.
            if (string.IsNullOrEmpty(header) || header.AsSpan().ContainsAnyExceptInRange('!', '~') || header.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException($"{where}: {DisplayName(header)} in Headers is not a header field name (RFC 5322: one or more printable US-ASCII characters, 33 to 126, except ':').", nameof(Headers));
            }
        }
    }

    /// <summary>A header name as it can be shown in a message: quoted, controls and non-ASCII as \uXXXX escapes.</summary>
    private static string DisplayName(string? header)
    {
        if (header is null)
        {
            return "(null)";
        }

        var text = new System.Text.StringBuilder(header.Length + 2).Append('\'');
        foreach (var c in header)
        {
            if (c is >= ' ' and <= '~')
            {
                text.Append(c);
            }
            else
            {
                text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.Append('\'').ToString();
    }

    internal string LoadPem()
    {
        if (!string.IsNullOrWhiteSpace(PrivateKey))
        {
            return PrivateKey;
        }

        try
        {
            return File.ReadAllText(PrivateKeyFile!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"DirectMail:Dkim entry for '{Domain}': the PrivateKeyFile '{PrivateKeyFile}' cannot be read: {e.Message}", nameof(PrivateKeyFile), e);
        }
    }
}
