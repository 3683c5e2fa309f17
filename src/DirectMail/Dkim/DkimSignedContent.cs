using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.IO;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;

namespace DirectMail.Dkim;

/// <summary>
/// A content sent with DKIM-Signature fields: see <see cref="DkimSigner"/>. Every write signs anew, over the octets
/// written for that server (two passes, or a spool for a content of unknown length).
/// </summary>
internal sealed class DkimSignedContent : SmtpContent
{
    private readonly SmtpContent _inner;
    private readonly DkimSignerSet _set;
    private readonly string? _envelopeDomain;
    private readonly ILogger? _logger;
    private int _loggedUnsigned;

    public DkimSignedContent(SmtpContent inner, DkimSignerSet set, string? envelopeDomain, ILogger? logger)
    {
        _inner = inner;
        _set = set;
        _envelopeDomain = envelopeDomain;
        _logger = logger;
    }

    /// <summary>The content that is signed.</summary>
    public SmtpContent Inner => _inner;

    /// <inheritdoc />
    public override bool RequiresSmtpUtf8 => _inner.RequiresSmtpUtf8;

    /// <summary>As the signed content says: the signature fields are prepended, the header's <c>TLS-Required</c> is not changed.</summary>
    internal override bool TlsRequiredNo => _inner.TlsRequiredNo;

    /// <inheritdoc />
    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => _inner.GetBodyType(capabilities);

    /// <summary>
    /// The inner content's length plus the most the signature fields take (SIZE is a declaration checked against
    /// the server's limit: a few hundred octets more than sent is harmless). Null when the inner length is unknown.
    /// </summary>
    public override long? GetLength(SmtpCapabilities capabilities)
        => _inner.GetLength(capabilities) is { } length ? length + _set.MaxHeaderLength : null;

    /// <summary>Signed over what the inner content is readied into (spools for the send): see <see cref="SmtpContent"/>.</summary>
    internal override async ValueTask<SmtpContent> ShareAsync(IO.ContentSpools spools, bool concurrent, CancellationToken cancellationToken)
    {
        var inner = await _inner.ShareAsync(spools, concurrent, cancellationToken).ConfigureAwait(false);
        return ReferenceEquals(inner, _inner) ? this : new DkimSignedContent(inner, _set, _envelopeDomain, _logger);
    }

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(capabilities);
        if (_inner is FormSpooledContent forms)
        {
            // Spooled for this server's form first: then its length is known, and both passes read the spool.
            await forms.SpoolAsync(capabilities, cancellationToken).ConfigureAwait(false);
        }

        var spool = _inner.GetLength(capabilities) is null ? new DkimSpool() : null;
        try
        {
            byte[]? header = null;
            var headerLength = 0;
            using (var hasher = new DkimMessageHasher(_set, _envelopeDomain, spool))
            {
                // Pass 1: hash.
                await _inner.WriteToAsync(hasher, capabilities, cancellationToken).ConfigureAwait(false);
                hasher.Complete();
                if (spool is { IsFile: true } && _logger is not null)
                {
                    DkimLog.SpooledToFile(_logger, spool.Length);
                }

                var signers = hasher.Signers;
                if (signers.Length == 0)
                {
                    if (_logger is not null && Interlocked.Exchange(ref _loggedUnsigned, 1) == 0)
                    {
                        DkimLog.Unsigned(_logger, hasher.FromDomain.Length == 0 ? "(no From)" : hasher.FromDomain, _envelopeDomain ?? "(null sender)");
                    }
                }
                else
                {
                    var capacity = 0;
                    foreach (var signer in signers)
                    {
                        capacity += signer.HeaderCapacity(hasher);
                    }

                    header = ArrayPool<byte>.Shared.Rent(capacity);
                    Span<byte> bodyHash = stackalloc byte[32];
                    Span<byte> simpleHash = stackalloc byte[32];
                    bool haveRelaxed = false, haveSimple = false;
                    foreach (var signer in signers)
                    {
                        var relaxed = signer.BodyCanonicalization == DkimCanonicalization.Relaxed;
                        if (relaxed && !haveRelaxed)
                        {
                            hasher.GetBodyHash(DkimCanonicalization.Relaxed, bodyHash);
                            haveRelaxed = true;
                        }
                        else if (!relaxed && !haveSimple)
                        {
                            hasher.GetBodyHash(DkimCanonicalization.Simple, simpleHash);
                            haveSimple = true;
                        }

                        headerLength += signer.WriteHeader(hasher, relaxed ? bodyHash : simpleHash, header.AsSpan(headerLength));
                        if (_logger is not null)
                        {
                            DkimLog.Signed(_logger, signer.Domain, signer.Selector);
                        }
                    }
                }
            }

            // Pass 2: the signature fields, then the content.
            if (header is not null)
            {
                try
                {
                    await destination.WriteAsync(header.AsMemory(0, headerLength), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(header);
                }
            }

            if (spool is not null)
            {
                await spool.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _inner.WriteToAsync(destination, capabilities, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (spool is not null)
            {
                await spool.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
