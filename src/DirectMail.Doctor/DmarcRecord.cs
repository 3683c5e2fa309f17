using System;
using System.Collections.Generic;
using System.Globalization;

namespace DirectMail.Doctor;

/// <summary>A DMARC record, the TXT record at <c>_dmarc.domain</c> (RFC 7489 section 6.3).</summary>
internal sealed class DmarcRecord
{
    private DmarcRecord(string policy, string? subdomainPolicy, bool strictSpf, bool strictDkim, int percent, string? reportTo)
    {
        Policy = policy;
        SubdomainPolicy = subdomainPolicy;
        StrictSpf = strictSpf;
        StrictDkim = strictDkim;
        Percent = percent;
        ReportTo = reportTo;
    }

    /// <summary>p=: <c>none</c>, <c>quarantine</c> or <c>reject</c>.</summary>
    public string Policy { get; }

    /// <summary>sp=, for subdomains of the domain that publishes the record; null when absent (p= applies).</summary>
    public string? SubdomainPolicy { get; }

    /// <summary>aspf=s: the MAIL FROM domain must equal the From domain, not only share its organisational domain.</summary>
    public bool StrictSpf { get; }

    /// <summary>adkim=s: the signing domain must equal the From domain.</summary>
    public bool StrictDkim { get; }

    /// <summary>pct=: the share of failing mail the policy applies to, 0 to 100.</summary>
    public int Percent { get; }

    /// <summary>rua=: where aggregate reports go; null when absent.</summary>
    public string? ReportTo { get; }

    /// <summary>True when <paramref name="txt"/> begins with the DMARC version tag (section 6.6.3: other TXT records are ignored).</summary>
    public static bool IsDmarc(string txt)
    {
        var trimmed = txt.TrimStart();
        if (!trimmed.StartsWith('v'))
        {
            return false;
        }

        var rest = trimmed[1..].TrimStart();
        return rest.StartsWith('=') && rest[1..].TrimStart().StartsWith("DMARC1", StringComparison.Ordinal);
    }

    /// <summary>Parses a record that <see cref="IsDmarc"/> accepted; null with the reason when it is not valid.</summary>
    public static DmarcRecord? Parse(string text, out string? error)
    {
        var tags = TagValueList.Parse(text, out error);
        if (tags is null)
        {
            return null;
        }

        if (tags[0].Key != "v" || tags[0].Value != "DMARC1")
        {
            error = "v=DMARC1 must be the first tag (RFC 7489 section 6.4)";
            return null;
        }

        // Section 6.3: p= is required and must come right after v=.
        var policy = TagValueList.Get(tags, "p");
        if (policy is null)
        {
            error = "the required p= tag (the policy) is missing";
            return null;
        }

        if (tags.Count < 2 || tags[1].Key != "p")
        {
            error = "p= must follow v=DMARC1 directly (RFC 7489 section 6.4)";
            return null;
        }

        policy = policy.ToLowerInvariant();
        if (!IsPolicy(policy))
        {
            error = $"p={policy} is not none, quarantine or reject";
            return null;
        }

        var subdomainPolicy = TagValueList.Get(tags, "sp")?.ToLowerInvariant();
        if (subdomainPolicy is not null && !IsPolicy(subdomainPolicy))
        {
            error = $"sp={subdomainPolicy} is not none, quarantine or reject";
            return null;
        }

        if (!TryAlignment(tags, "aspf", out var strictSpf, out error) || !TryAlignment(tags, "adkim", out var strictDkim, out error))
        {
            return null;
        }

        var percent = 100;
        if (TagValueList.Get(tags, "pct") is { } pct
            && (!int.TryParse(pct, NumberStyles.None, CultureInfo.InvariantCulture, out percent) || percent > 100))
        {
            error = $"pct={pct} is not a number from 0 to 100";
            return null;
        }

        return new DmarcRecord(policy, subdomainPolicy, strictSpf, strictDkim, percent, TagValueList.Get(tags, "rua"));
    }

    private static bool IsPolicy(string value) => value is "none" or "quarantine" or "reject";

    private static bool TryAlignment(List<KeyValuePair<string, string>> tags, string name, out bool strict, out string? error)
    {
        error = null;
        strict = false;
        var value = TagValueList.Get(tags, name)?.ToLowerInvariant();
        switch (value)
        {
            case null or "r":
                return true;
            case "s":
                strict = true;
                return true;
            default:
                error = $"{name}={value} is not r (relaxed) or s (strict)";
                return false;
        }
    }
}
