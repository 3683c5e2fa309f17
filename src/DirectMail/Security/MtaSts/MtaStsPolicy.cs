using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;

namespace DirectMail.Security.MtaSts;

/// <summary>
/// An MTA-STS policy (RFC 8461 section 3.2): the text served at <c>https://mta-sts.&lt;domain&gt;/.well-known/mta-sts.txt</c>,
/// parsed. Immutable; the cache shares one instance between every delivery to the domain.
/// </summary>
internal sealed class MtaStsPolicy
{
    /// <summary>The largest <c>max_age</c> allowed: one year (RFC 8461 section 3.2).</summary>
    public const long MaxMaxAgeSeconds = 31_557_600;

    private MtaStsPolicy(MtaStsMode mode, string[] mx, TimeSpan maxAge, string text)
    {
        Mode = mode;
        Mx = mx;
        MaxAge = maxAge;
        Text = text;
    }

    private ImmutableArray<string> _reportLines;
    private ImmutableArray<string> _reportMx;

    public MtaStsMode Mode { get; }

    /// <summary>The <c>mx</c> patterns, lower case, without a trailing dot: host names, or <c>*.</c> and a domain.</summary>
    public IReadOnlyList<string> Mx { get; }

    /// <summary>How long the policy may be cached after it was fetched.</summary>
    public TimeSpan MaxAge { get; }

    /// <summary>The policy as served (for persistence and for <c>directmail mx --tls</c>).</summary>
    public string Text { get; }

    /// <summary>
    /// The policy's lines as fetched, for TLS-RPT's <c>policy-string</c> (RFC 8460 section 4.3): each line of
    /// <see cref="Text"/> without its line break, the empty lines at the end left out. Made once per policy.
    /// </summary>
    internal ImmutableArray<string> ReportLines
    {
        get
        {
            if (_reportLines.IsDefault)
            {
                var lines = ImmutableArray.CreateBuilder<string>();
                foreach (var line in Text.Split('\n'))
                {
                    lines.Add(line.TrimEnd('\r'));
                }

                while (lines.Count > 0 && lines[^1].Length == 0)
                {
                    lines.RemoveAt(lines.Count - 1);
                }

                _reportLines = lines.ToImmutable();
            }

            return _reportLines;
        }
    }

    /// <summary>The <c>mx</c> patterns as TLS-RPT's <c>mx-host</c> (RFC 8460 section 4.4). Made once per policy.</summary>
    internal ImmutableArray<string> ReportMx => _reportMx.IsDefault ? _reportMx = [.. Mx] : _reportMx;

    /// <summary>
    /// The decision this policy makes for its domain, built once by <see cref="TransportSecurityResolver"/> and kept
    /// here so that a cached policy costs a delivery no allocation (a policy object belongs to one domain's fetch).
    /// </summary>
    internal TransportSecurityPolicy? Decision { get; set; }

    /// <summary>
    /// True when <paramref name="mxHost"/> matches one of the <c>mx</c> patterns (RFC 8461 section 4.1): equal, case
    /// ignored; or, for <c>*.example.com</c>, exactly one label followed by <c>.example.com</c>.
    /// </summary>
    /// <param name="mxHost">An MX host name, A-labels; a trailing dot is ignored.</param>
    public bool Matches(string mxHost)
    {
        var host = mxHost.AsSpan();
        if (host.EndsWith("."))
        {
            host = host[..^1];
        }

        foreach (var pattern in Mx)
        {
            if (MatchesPattern(host, pattern))
            {
                return true;
            }
        }

        return false;
    }

    internal static bool MatchesPattern(ReadOnlySpan<char> host, string pattern)
    {
        if (!pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            return host.Equals(pattern, StringComparison.OrdinalIgnoreCase);
        }

        // The wildcard stands for exactly one leftmost label: "*.example.com" takes mx.example.com, not
        // example.com nor a.b.example.com.
        var suffix = pattern.AsSpan(1);
        if (host.Length <= suffix.Length || !host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var label = host[..^suffix.Length];
        return label.IndexOf('.') < 0;
    }

    /// <summary>Parses a policy; null and <paramref name="error"/> when it is malformed (the domain then has no usable policy).</summary>
    public static MtaStsPolicy? Parse(string text, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? version = null;
        MtaStsMode? mode = null;
        long? maxAge = null;
        var mx = new List<string>();
        var rest = text.AsSpan();
        var lineNumber = 0;
        while (!rest.IsEmpty)
        {
            lineNumber++;
            var end = rest.IndexOf('\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlySpan<char>.Empty : rest[(end + 1)..];
            if (line.EndsWith("\r"))
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                // The grammar has no empty lines; servers do end the file with one or two.
                if (rest.Trim("\r\n").IsEmpty)
                {
                    break;
                }

                error = Invalid(lineNumber, "is empty");
                return null;
            }

            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                error = Invalid(lineNumber, "is not 'key: value'");
                return null;
            }

            var key = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t");
            if (!IsFieldName(key))
            {
                error = Invalid(lineNumber, "has a malformed key");
                return null;
            }

            if (!IsValue(value))
            {
                error = Invalid(lineNumber, "has a malformed value");
                return null;
            }

            // The keys and their values are case-sensitive (%s in RFC 8461's ABNF).
            switch (key)
            {
                case "version":
                    if (version is not null)
                    {
                        error = Invalid(lineNumber, "repeats version");
                        return null;
                    }

                    version = value.ToString();
                    break;
                case "mode":
                    if (mode is not null)
                    {
                        error = Invalid(lineNumber, "repeats mode");
                        return null;
                    }

                    mode = value switch
                    {
                        "enforce" => MtaStsMode.Enforce,
                        "testing" => MtaStsMode.Testing,
                        "none" => MtaStsMode.None,
                        _ => null,
                    };
                    if (mode is null)
                    {
                        error = Invalid(lineNumber, "names a mode other than enforce, testing and none");
                        return null;
                    }

                    break;
                case "max_age":
                    if (maxAge is not null)
                    {
                        error = Invalid(lineNumber, "repeats max_age");
                        return null;
                    }

                    if (value.Length is 0 or > 10 || value.ContainsAnyExceptInRange('0', '9') || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > MaxMaxAgeSeconds)
                    {
                        error = Invalid(lineNumber, $"has a max_age that is not 0 to {MaxMaxAgeSeconds} seconds");
                        return null;
                    }

                    maxAge = seconds;
                    break;
                case "mx":
                    if (MxPattern(value) is not { } pattern)
                    {
                        error = Invalid(lineNumber, "has an mx value that is neither a host name nor *. and a domain");
                        return null;
                    }

                    mx.Add(pattern);
                    break;
                default:
                    // RFC 8461 section 3.2: unknown fields are ignored (extensions).
                    break;
            }
        }

        if (version != "STSv1")
        {
            error = version is null ? "The policy has no version." : "The policy's version is not STSv1.";
            return null;
        }

        if (mode is null)
        {
            error = "The policy has no mode.";
            return null;
        }

        if (maxAge is null)
        {
            error = "The policy has no max_age.";
            return null;
        }

        if (mx.Count == 0 && mode != MtaStsMode.None)
        {
            error = "The policy names no mx pattern.";
            return null;
        }

        error = null;
        return new MtaStsPolicy(mode.Value, [.. mx], TimeSpan.FromSeconds(maxAge.Value), text);
    }

    private static string Invalid(int line, string what) => string.Create(CultureInfo.InvariantCulture, $"Line {line} of the policy {what}.");

    /// <summary>sts-policy-field-name = ALPHA *31(ALPHA / DIGIT / "_" / "-" / ".").</summary>
    private static bool IsFieldName(ReadOnlySpan<char> key)
    {
        if (key.Length is 0 or > 32 || !char.IsAsciiLetter(key[0]))
        {
            return false;
        }

        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>sts-policy-value = 1*(%x21-7E / WSP / UTF-8 non-ASCII), here at least one visible character after trimming.</summary>
    private static bool IsValue(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c < 0x20 && c != '\t' || c == 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>sts-policy-mx-value = ["*."] Domain: lower case, no trailing dot; null when malformed.</summary>
    private static string? MxPattern(ReadOnlySpan<char> value)
    {
        var domain = value.StartsWith("*.") ? value[2..] : value;
        if (domain.EndsWith("."))
        {
            domain = domain[..^1];
            value = value[..^1];
        }

        if (domain.IsEmpty || domain.Length > 253)
        {
            return null;
        }

        var labels = domain;
        while (true)
        {
            var dot = labels.IndexOf('.');
            var label = dot < 0 ? labels : labels[..dot];
            labels = dot < 0 ? ReadOnlySpan<char>.Empty : labels[(dot + 1)..];
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return null;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    return null;
                }
            }

            if (dot < 0)
            {
                break;
            }
        }

        return value.ToString().ToLowerInvariant();
    }
}
