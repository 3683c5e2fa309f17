using System;
using System.Collections.Generic;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;

namespace DirectMail.Dkim;

/// <summary>
/// The DKIM keys of <c>DirectMail:Dkim</c>, by domain (several domains, several selectors each: every key of the
/// chosen domain signs). A message is signed with the keys of its From domain (what DMARC aligns with), read as
/// receivers read it (RFC 5322: comments, quoted strings, groups), or failing that of its envelope sender's domain;
/// with none, it is sent unsigned and a warning is logged. A From that is not exactly one mailbox is never signed.
/// </summary>
internal sealed class DkimKeyring : DkimSignerSet, IDisposable
{
    private readonly Dictionary<string, DkimSigner[]> _byDomain;
    private readonly ILogger _logger;

    private DkimKeyring(Dictionary<string, DkimSigner[]> byDomain, IEnumerable<DkimSigner> all, ILogger logger)
        : base(all)
    {
        _byDomain = byDomain;
        _logger = logger;
        foreach (var signers in byDomain.Values)
        {
            var length = 0;
            foreach (var signer in signers)
            {
                length += signer.MaxHeaderLength;
            }

            MaxHeaderLength = Math.Max(MaxHeaderLength, length);
        }
    }

    public override int MaxHeaderLength { get; }

    /// <summary>The keyring of <paramref name="options"/>; null when there is no key.</summary>
    public static DkimKeyring? Create(IReadOnlyList<DkimSignerOptions> options, ILogger logger, TimeProvider time)
    {
        if (options.Count == 0)
        {
            return null;
        }

        var all = new List<DkimSigner>(options.Count);
        var lists = new Dictionary<string, List<DkimSigner>>(StringComparer.OrdinalIgnoreCase);
        try
        {
            foreach (var entry in options)
            {
                var signer = new DkimSigner(entry, time);
                all.Add(signer);
                if (!lists.TryGetValue(signer.Domain, out var list))
                {
                    lists[signer.Domain] = list = new List<DkimSigner>();
                }

                list.Add(signer);
            }
        }
        catch
        {
            foreach (var signer in all)
            {
                signer.Dispose();
            }

            throw;
        }

        var byDomain = new Dictionary<string, DkimSigner[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (domain, list) in lists)
        {
            byDomain[domain] = list.ToArray();
        }

        return new DkimKeyring(byDomain, all, logger);
    }

    /// <summary>The content signed with the keys of its From or envelope sender domain, chosen as it is written.</summary>
    public SmtpContent Wrap(SmtpContent content, string? envelopeSender)
    {
        string? domain = null;
        if (!string.IsNullOrEmpty(envelopeSender))
        {
            var at = envelopeSender.LastIndexOf('@');
            if (at >= 0)
            {
                try
                {
                    domain = DkimSigner.NormalizeDomain(envelopeSender[(at + 1)..]);
                }
                catch (ArgumentException)
                {
                    domain = null;
                }
            }
        }

        return new DkimSignedContent(content, this, domain, _logger);
    }

    public override DkimSigner[] Choose(DkimMessageHasher message, string? envelopeDomain, out string fromDomain)
    {
        // Keys are chosen by the domain receivers see in From: a From that is not one mailbox (two mailboxes, a
        // group, two From fields, unparsable) gets no signature at all, since a receiver may take another of its
        // domains than a naive reader would; never the envelope domain's either, so that a tenant cannot have a
        // message that shows another domain signed by it.
        var kind = From(message, out fromDomain);
        if (kind == DkimFromKind.NotOneMailbox)
        {
            fromDomain = "(a From field that is not exactly one mailbox)";
            return [];
        }

        if (kind == DkimFromKind.Mailbox && _byDomain.TryGetValue(fromDomain, out var signers))
        {
            return signers;
        }

        return envelopeDomain is not null && _byDomain.TryGetValue(envelopeDomain, out signers) ? signers : [];
    }

    public void Dispose()
    {
        foreach (var signers in _byDomain.Values)
        {
            foreach (var signer in signers)
            {
                signer.Dispose();
            }
        }
    }
}
