using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using DirectMail.Dns;

namespace DirectMail.Doctor;

/// <summary>What <see cref="SenderDoctor"/> checks: a sending domain and, optionally, the host and key that send for it.</summary>
public sealed class DoctorRequest
{
    /// <summary>The sending domain: the domain of the From address. Required. A Unicode name is converted to A-labels.</summary>
    public string Domain { get; set; } = string.Empty;

    /// <summary>
    /// The domain of the envelope sender (MAIL FROM), where bounces go and whose SPF record receivers evaluate; null
    /// (the default) for <see cref="Domain"/>, which is what DirectMail sends unless told otherwise.
    /// </summary>
    public string? MailFromDomain { get; set; }

    /// <summary>The public address mail leaves from. Null skips the reverse DNS checks, and SPF is checked for syntax and lookup limits only.</summary>
    public IPAddress? SendingAddress { get; set; }

    /// <summary>The name sent in EHLO (<see cref="Delivery.DirectMailOptions.HeloName"/>); null skips the HELO check.</summary>
    public string? HeloName { get; set; }

    /// <summary>The DKIM selector; null skips the DKIM check.</summary>
    public string? DkimSelector { get; set; }

    /// <summary>The DKIM signing domain (d=); null (the default) for <see cref="Domain"/>.</summary>
    public string? DkimDomain { get; set; }

    /// <summary>
    /// The DKIM private key in PEM (PKCS#1 <c>RSA PRIVATE KEY</c> or PKCS#8 <c>PRIVATE KEY</c>, RSA or Ed25519), to check
    /// that the published key is its public half. Null checks the published record only. Not stored or logged. An
    /// Ed25519 key is compared only with <see cref="Ed25519PublicKey"/> set.
    /// </summary>
    public string? DkimPrivateKeyPem { get; set; }

    /// <summary>
    /// Further selectors of the DKIM domain to check besides <see cref="DkimSelector"/>, each with its private key:
    /// for example the Ed25519 selector (RFC 8463) beside the RSA one, as a domain that signs each message with both
    /// has. Each is checked and reported on its own (one <see cref="DoctorCheckIds.Dkim"/> check per selector, in
    /// order). Empty by default.
    /// </summary>
    public IReadOnlyList<DoctorDkimKey> AdditionalDkimKeys { get; set; } = Array.Empty<DoctorDkimKey>();

    /// <summary>
    /// Reads the 32-octet public key of an Ed25519 private key in PEM, so that the doctor can compare it with a
    /// <c>k=ed25519</c> record without a cryptography library of its own: give <c>DkimEd25519.PublicKey</c> of the
    /// package DirectMail.Dkim.Ed25519 (the package that signs with the key). It may throw
    /// <see cref="Dkim.DkimKeyException"/> for a key it cannot read. Null (the default): an Ed25519 private key is
    /// recognised but not compared, and the check warns. RSA keys are read by .NET and need nothing.
    /// </summary>
    public Func<string, byte[]>? Ed25519PublicKey { get; set; }

    /// <summary>The recursive resolvers to ask; empty (the default) for the system's. See <see cref="ParseNameServer"/>.</summary>
    public IReadOnlyList<IPEndPoint> NameServers { get; set; } = Array.Empty<IPEndPoint>();

    /// <summary>Time allowed for one DNS query. Default 5 seconds, as <see cref="MxResolverOptions.QueryTimeout"/>.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Opt-in: a domain (for example a large mailbox provider) whose first MX host the doctor opens a TCP connection to on
    /// port 25, to see whether this network lets outbound SMTP out at all; nothing is sent on it. Null (the default)
    /// skips the check and makes no connection.
    /// </summary>
    public string? Port25ProbeDomain { get; set; }

    /// <summary>Time allowed for the port 25 connection. Default 10 seconds.</summary>
    public TimeSpan Port25Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The port the probe connects to; tests point it at a loopback listener.</summary>
    internal int Port25ProbePort { get; set; } = 25;

    /// <summary>Let the probe connect to a non-public MX address; tests only.</summary>
    internal bool AllowNonPublicProbeAddress { get; set; }

    /// <summary>
    /// Parses a name server as the CLI takes it: <c>IP</c> or <c>IP:PORT</c>, with IPv6 as <c>[IP]:PORT</c> or a bare
    /// address; port 53 when none is given.
    /// </summary>
    /// <exception cref="FormatException">The text is not an address with an optional port.</exception>
    public static IPEndPoint ParseNameServer(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (MxResolverOptions.TryParseNameServer(text, out var endPoint))
        {
            return endPoint;
        }

        throw new FormatException($"'{text.Trim()}' is not a name server: give an IP address with an optional port, such as 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53.");
    }

    /// <summary>Checks the request and throws <see cref="ArgumentException"/> naming the first thing that is wrong.</summary>
    public void Validate()
    {
        _ = Normalize(Domain, nameof(Domain), required: true);
        _ = Normalize(MailFromDomain, nameof(MailFromDomain), required: false);
        _ = Normalize(DkimDomain, nameof(DkimDomain), required: false);
        _ = Normalize(Port25ProbeDomain, nameof(Port25ProbeDomain), required: false);
        ValidateSelector(DkimSelector, nameof(DkimSelector));
        if (DkimPrivateKeyPem is not null && DkimSelector is null)
        {
            throw new ArgumentException($"{nameof(DkimPrivateKeyPem)} is given without {nameof(DkimSelector)}: the key is looked up at SELECTOR._domainkey.DOMAIN.", nameof(DkimSelector));
        }

        ArgumentNullException.ThrowIfNull(AdditionalDkimKeys, nameof(AdditionalDkimKeys));
        var selectors = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (DkimSelector is not null)
        {
            selectors.Add(DkimSelector);
        }

        foreach (var key in AdditionalDkimKeys)
        {
            if (key is null)
            {
                throw new ArgumentException($"{nameof(AdditionalDkimKeys)} holds a null entry.", nameof(AdditionalDkimKeys));
            }

            ValidateSelector(key.Selector, nameof(AdditionalDkimKeys));
            if (!selectors.Add(key.Selector))
            {
                throw new ArgumentException($"{nameof(AdditionalDkimKeys)} '{key.Selector}' is the selector of another key too; give each selector once.", nameof(AdditionalDkimKeys));
            }
        }

        MxResolverOptions.ValidateNameServers(NameServers, nameof(NameServers));

        if (QueryTimeout <= TimeSpan.Zero || QueryTimeout > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException($"{nameof(QueryTimeout)} must be more than 0 and at most 1 minute; it is {QueryTimeout}.", nameof(QueryTimeout));
        }

        if (Port25Timeout <= TimeSpan.Zero || Port25Timeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"{nameof(Port25Timeout)} must be more than 0 and at most 5 minutes; it is {Port25Timeout}.", nameof(Port25Timeout));
        }
    }

    /// <summary>The selectors to check with their keys: <see cref="DkimSelector"/> first, then <see cref="AdditionalDkimKeys"/>.</summary>
    internal List<DoctorDkimKey> DkimKeys()
    {
        var keys = new List<DoctorDkimKey>(AdditionalDkimKeys.Count + 1);
        if (DkimSelector is not null)
        {
            keys.Add(new DoctorDkimKey(DkimSelector, DkimPrivateKeyPem));
        }

        keys.AddRange(AdditionalDkimKeys);
        return keys;
    }

    private static void ValidateSelector(string? selector, string name)
    {
        if (selector is not null && (selector.Length == 0 || selector.Contains('@') || selector.Contains(' ')))
        {
            throw new ArgumentException($"{name} '{selector}' is not a selector (one or more DNS labels, RFC 6376 section 3.1).", name);
        }
    }

    /// <summary>A domain in A-label form, lower case, without the trailing dot; null for a null optional one.</summary>
    internal static string? Normalize(string? domain, string name, bool required)
    {
        if (domain is null && !required)
        {
            return null;
        }

        var parsed = MxDomain.Parse(domain ?? string.Empty);
        if (parsed.Error is not null || parsed.Literal is not null)
        {
            throw new ArgumentException($"{name} '{domain}' is not a domain name: {parsed.Error ?? "an address literal"}", name);
        }

        if (!parsed.Name!.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} '{domain}' is not a fully qualified domain name."), name);
        }

        return parsed.Name;
    }
}
