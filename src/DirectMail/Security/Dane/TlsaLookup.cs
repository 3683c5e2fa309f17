using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace DirectMail.Security.Dane;

/// <summary>
/// The TLSA records of one MX host and what they mean for delivery (RFC 7672 section 2.2). Immutable; cached by
/// <see cref="TlsaResolver"/> for the records' TTL and shared by every session to that host.
/// </summary>
internal sealed class TlsaLookup
{
    private TlsaLookup(TlsaLookupStatus status, string? baseDomain, ImmutableArray<TlsaAssociation> records, string reason)
    {
        Status = status;
        BaseDomain = baseDomain;
        Records = records;
        Reason = reason;
        var usable = ImmutableArray.CreateBuilder<TlsaAssociation>(records.Length);
        foreach (var record in records)
        {
            if (record.IsUsable)
            {
                usable.Add(record);
            }
        }

        Usable = usable.ToImmutable();
    }

    private ImmutableArray<string> _reportStrings;

    public TlsaLookupStatus Status { get; }

    /// <summary>
    /// The TLSA base domain (RFC 7672 section 2.2.3): the host name whose <c>_25._tcp</c> records these are (the
    /// CNAME-expanded MX host name when the records were found there), or null when no TLSA lookup was made.
    /// </summary>
    public string? BaseDomain { get; }

    /// <summary>Every validated TLSA record found, usable or not, as published (empty unless <see cref="Status"/> is Usable or NoneUsable).</summary>
    public ImmutableArray<TlsaAssociation> Records { get; }

    /// <summary>The records a certificate is matched against (empty unless <see cref="Status"/> is Usable).</summary>
    public ImmutableArray<TlsaAssociation> Usable { get; }

    /// <summary>
    /// The records as TLS-RPT quotes them (RFC 8460 section 4.3, <c>policy-string</c>): each record's four fields in
    /// presentation form, as published (usable or not). Made once per lookup.
    /// </summary>
    public ImmutableArray<string> ReportStrings
    {
        get
        {
            if (_reportStrings.IsDefault)
            {
                var strings = ImmutableArray.CreateBuilder<string>(Records.Length);
                foreach (var record in Records)
                {
                    strings.Add(record.ToString());
                }

                _reportStrings = strings.MoveToImmutable();
            }

            return _reportStrings;
        }
    }

    /// <summary>A sentence for people: what was found and what it means.</summary>
    public string Reason { get; }

    /// <summary>DANE applies to the host: TLS is required (with a certificate check when <see cref="Status"/> is Usable).</summary>
    public bool RequiresTls => Status is TlsaLookupStatus.Usable or TlsaLookupStatus.NoneUsable;

    public static TlsaLookup NotApplicable(string? baseDomain, string reason) =>
        new(TlsaLookupStatus.NotApplicable, baseDomain, ImmutableArray<TlsaAssociation>.Empty, reason);

    public static TlsaLookup Failed(string baseDomain, string reason) =>
        new(TlsaLookupStatus.Failed, baseDomain, ImmutableArray<TlsaAssociation>.Empty, reason);

    /// <summary>
    /// The result of validated TLSA records at <paramref name="baseDomain"/>: Usable when one can be used, NoneUsable
    /// otherwise. Digest algorithm agility (RFC 7671 section 9): where SHA-512 and SHA-256 records are both published
    /// for one usage and selector, only the SHA-512 ones are used.
    /// </summary>
    /// <param name="baseDomain">The TLSA base domain (a host name).</param>
    /// <param name="owner">The name the records were found at (<c>_25._tcp.</c> and the base domain), for the sentences.</param>
    /// <param name="published">The records, as published.</param>
    public static TlsaLookup FromRecords(string baseDomain, string owner, IReadOnlyList<TlsaAssociation> published)
    {
        if (published.Count == 0)
        {
            throw new ArgumentException("FromRecords needs at least one record; no records means DANE does not apply.", nameof(published));
        }

        // Four usable (usage, selector) pairs at most: 2/3 by 0/1. A bit per pair with a usable SHA-512 record.
        var strongest = 0;
        foreach (var record in published)
        {
            if (record.IsUsable && record.MatchingType == TlsaAssociation.Sha512)
            {
                strongest |= PairBit(record);
            }
        }

        var records = ImmutableArray.CreateBuilder<TlsaAssociation>(published.Count);
        var usableCount = 0;
        foreach (var record in published)
        {
            var kept = record.IsUsable && record.MatchingType == TlsaAssociation.Sha256 && (strongest & PairBit(record)) != 0 ? record.Superseded() : record;
            usableCount += kept.IsUsable ? 1 : 0;
            records.Add(kept);
        }

        var all = records.MoveToImmutable();
        return usableCount > 0
            ? new TlsaLookup(TlsaLookupStatus.Usable, baseDomain, all, $"{usableCount} usable TLSA record(s) of {all.Length} at {owner}: TLS is required and the certificate must match one (RFC 7672).")
            : new TlsaLookup(TlsaLookupStatus.NoneUsable, baseDomain, all, $"{all.Length} TLSA record(s) at {owner}, none usable for SMTP: TLS is required, without a certificate check (RFC 7672 section 2.2).");
    }

    /// <summary>The status and the sentence.</summary>
    public override string ToString() => $"{Status}: {Reason}";

    private static int PairBit(TlsaAssociation record) => 1 << (((record.Usage - TlsaAssociation.DaneTa) * 2) + record.Selector);
}
