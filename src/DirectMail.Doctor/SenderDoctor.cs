using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dkim;
using DirectMail.Dns;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Doctor;

/// <summary>
/// Tells a sender what its DNS lacks for receivers to accept its mail: MX (for bounces), SPF (RFC 7208), DKIM
/// (RFC 6376), DMARC (RFC 7489) and its alignment, reverse DNS with forward confirmation and the HELO name, and
/// optionally whether outbound port 25 is open. The engine of <c>directmail doctor</c>. Thread-safe; every call
/// queries DNS afresh (no cache).
/// </summary>
public sealed class SenderDoctor
{
    private readonly Func<DoctorRequest, IDoctorDns> _dnsFactory;
    private readonly ILogger _logger;

    /// <summary>Creates a doctor.</summary>
    /// <param name="logger">Where to log (event ids 6000 to 6099); null for none.</param>
    public SenderDoctor(ILogger<SenderDoctor>? logger = null)
        : this(dnsFactory: null, logger)
    {
    }

    internal SenderDoctor(Func<DoctorRequest, IDoctorDns>? dnsFactory, ILogger? logger)
    {
        _dnsFactory = dnsFactory ?? (request => new LookupClientDoctorDns(request.NameServers, request.QueryTimeout));
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Runs every check the request allows and returns the checklist; never throws for what DNS says, only for an invalid request.</summary>
    /// <param name="request">What to check; see <see cref="DoctorRequest"/>.</param>
    /// <param name="cancellationToken">Cancels the checks.</param>
    /// <exception cref="ArgumentException">The request is invalid (<see cref="DoctorRequest.Validate"/>).</exception>
    public async Task<DoctorReport> CheckAsync(DoctorRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var domain = DoctorRequest.Normalize(request.Domain, nameof(request.Domain), required: true)!;
        var ip = request.SendingAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : request.SendingAddress;
        var context = new Context(
            request,
            domain,
            DoctorRequest.Normalize(request.MailFromDomain, nameof(request.MailFromDomain), required: false) ?? domain,
            DoctorRequest.Normalize(request.DkimDomain, nameof(request.DkimDomain), required: false) ?? domain,
            ip,
            _dnsFactory(request));

        var mx = CheckMxAsync(context, cancellationToken);
        var spf = CheckSpfAsync(context, cancellationToken);
        var dkim = CheckDkimKeysAsync(context, cancellationToken);
        var dmarc = CheckDmarcAsync(context, cancellationToken);
        var reverse = CheckReverseAsync(context, cancellationToken);
        var port25 = CheckPort25Async(context, cancellationToken);
        await Task.WhenAll(mx, spf, dkim, dmarc, reverse, port25).ConfigureAwait(false);

        var alignment = CheckAlignment(context, spf.Result.Result, dkim.Result.KeyUsable, dkim.Result.RsaUsable, dmarc.Result.Record);
        var (ptr, fcrdns, helo) = reverse.Result;
        DoctorCheck[] checks = [mx.Result, spf.Result.Check, .. dkim.Result.Checks, dmarc.Result.Check, alignment, ptr, fcrdns, helo, port25.Result];
        foreach (var check in checks)
        {
            DoctorLog.Checked(_logger, check.Id, domain, check.Status, check.Found);
        }

        var report = new DoctorReport(domain, checks);
        DoctorLog.Reported(_logger, domain, report.IsReady, checks.Count(c => c.Status == DoctorStatus.Fail), checks.Count(c => c.Status == DoctorStatus.Warn));
        return report;
    }

    private sealed record Context(DoctorRequest Request, string Domain, string MailFromDomain, string DkimDomain, IPAddress? Ip, IDoctorDns Dns)
    {
        public string IpTerm => Ip is null ? "ip4:YOUR.SENDING.IP" : (Ip.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6:" : "ip4:") + Ip;
    }

    // ---- MX ----------------------------------------------------------------------------------------------------

    private const string MxTitle = "MX (bounces)";

    private static async Task<DoctorCheck> CheckMxAsync(Context context, CancellationToken cancellationToken)
    {
        var domain = context.MailFromDomain;
        var resolver = new MxResolver(ResolverOptions(context.Request), logger: null);
        var resolution = await resolver.ResolveAsync(domain, cancellationToken).ConfigureAwait(false);
        var fix = $"Publish an MX record for {domain} naming a host that accepts mail for it (for example '{domain}. MX 10 mail.{domain}.'), so that bounces and replies to the envelope sender arrive.";
        switch (resolution.Status)
        {
            case MxResolutionStatus.Success when resolution.IsImplicitMx:
                return new DoctorCheck(DoctorCheckIds.Mx, MxTitle, DoctorStatus.Warn, $"{domain} has no MX record; mail to it goes to its address record (implicit MX, RFC 5321 section 5.1): {Targets(resolution)}.", fix);
            case MxResolutionStatus.Success:
                return new DoctorCheck(DoctorCheckIds.Mx, MxTitle, DoctorStatus.Pass, $"{domain} receives mail at {Targets(resolution)}.");
            case MxResolutionStatus.NullMx:
                return new DoctorCheck(DoctorCheckIds.Mx, MxTitle, DoctorStatus.Fail, $"{domain} publishes a null MX (RFC 7505): it accepts no mail, so bounces are lost and many receivers refuse it as a sender (RFC 7505 section 4.2).", "Replace the null MX ('MX 0 .') with an MX naming a mail server for the domain.");
            case MxResolutionStatus.DnsFailure:
                return new DoctorCheck(DoctorCheckIds.Mx, MxTitle, DoctorStatus.Fail, resolution.Message, "The DNS lookup failed: check that the domain's name servers answer (and the --dns server, if given), then run the doctor again.");
            default:
                return new DoctorCheck(DoctorCheckIds.Mx, MxTitle, DoctorStatus.Fail, resolution.Message, fix);
        }
    }

    private static string Targets(MxResolution resolution) =>
        string.Join(", ", resolution.Targets.Select(t => t.ToString()));

    private static MxResolverOptions ResolverOptions(DoctorRequest request) => new()
    {
        NameServers = request.NameServers,
        QueryTimeout = request.QueryTimeout,
        Retries = 1,
        UseCache = false,
    };

    // ---- SPF ---------------------------------------------------------------------------------------------------

    private const string SpfTitle = "SPF";

    private static async Task<(DoctorCheck Check, SpfResult Result)> CheckSpfAsync(Context context, CancellationToken cancellationToken)
    {
        var domain = context.MailFromDomain;
        var evaluation = await new SpfEvaluator(context.Dns)
            .CheckHostAsync(context.Ip, domain, "postmaster@" + domain, context.Request.HeloName, cancellationToken)
            .ConfigureAwait(false);
        var lookups = $"{evaluation.DnsLookups} of {SpfEvaluator.MaxDnsLookups} DNS lookups";
        var record = evaluation.Record is null ? string.Empty : $"'{evaluation.Record}': ";
        var details = evaluation.Trace.Concat(evaluation.Warnings.Select(w => "warning: " + w)).ToArray();
        DoctorCheck Check(DoctorStatus status, string found, string? fix = null) => new(DoctorCheckIds.Spf, SpfTitle, status, found, fix, details);

        switch (evaluation.Result)
        {
            case SpfResult.None:
                return (Check(DoctorStatus.Fail, $"No SPF record: {evaluation.Reason}.", $"Publish one TXT record at {domain}: \"v=spf1 {context.IpTerm} -all\" (add include: terms for any other service that sends as {domain})."), evaluation.Result);
            case SpfResult.TempError:
                return (Check(DoctorStatus.Fail, $"SPF could not be evaluated (temperror): {evaluation.Reason}.", "A DNS lookup failed: check that the name servers of the domains involved answer, then run the doctor again."), evaluation.Result);
            case SpfResult.PermError:
                return (Check(DoctorStatus.Fail, $"{record}permerror: {evaluation.Reason}.", SpfPermErrorFix(evaluation, domain)), evaluation.Result);
        }

        var warning = evaluation.Warnings.Count > 0 ? evaluation.Warnings[0] : null;
        if (context.Ip is null)
        {
            var found = $"{record}parses and evaluates within the limits ({lookups}); not checked against a sending address (none given).";
            return (Check(warning is null ? DoctorStatus.Pass : DoctorStatus.Warn, found, warning is null ? null : Capitalise(warning) + "."), evaluation.Result);
        }

        if (evaluation.Result == SpfResult.Pass)
        {
            var found = $"{record}authorises {context.Ip} ({evaluation.Reason}; {lookups}).";
            return (Check(warning is null ? DoctorStatus.Pass : DoctorStatus.Warn, found, warning is null ? null : Capitalise(warning) + "."), evaluation.Result);
        }

        var result = evaluation.Result.ToString().ToLowerInvariant();
        var suggested = evaluation.Record is null ? $"v=spf1 {context.IpTerm} -all" : "v=spf1 " + context.IpTerm + evaluation.Record[6..];
        return (Check(DoctorStatus.Fail, $"{record}does not authorise {context.Ip}: {result} ({evaluation.Reason}; {lookups}).", $"Add {context.IpTerm} to the SPF record of {domain}, before its 'all' term: \"{suggested}\"."), evaluation.Result);
    }

    private static string SpfPermErrorFix(SpfEvaluation evaluation, string domain)
    {
        if (evaluation.Reason.Contains("more than " + SpfEvaluator.MaxDnsLookups + " DNS lookups", StringComparison.Ordinal))
        {
            return $"Bring the SPF record of {domain} under {SpfEvaluator.MaxDnsLookups} DNS lookups: remove include:, a, mx and exists terms that are not needed, or replace them with the ip4:/ip6: ranges they stand for.";
        }

        if (evaluation.Reason.Contains("returned no records", StringComparison.Ordinal))
        {
            return "Remove the terms that name domains without records (more than 2 such lookups are a permerror).";
        }

        if (evaluation.Reason.Contains("'v=spf1' records", StringComparison.Ordinal))
        {
            return $"Merge the SPF records of {domain} into one TXT record: receivers treat several as an error.";
        }

        return $"Correct the SPF record so that it follows RFC 7208: {evaluation.Reason}.";
    }

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    // ---- DKIM --------------------------------------------------------------------------------------------------

    private const string DkimTitle = "DKIM key";

    private const string Rsa = "rsa";

    private const string Ed25519 = "ed25519";

    /// <summary>One selector's verdict: the check, whether signatures with it would verify, and its key type (k=).</summary>
    private sealed record DkimOutcome(DoctorCheck Check, bool Usable, string? KeyType);

    /// <summary>
    /// Every selector, each checked and reported on its own; then, when no RSA key works, the usable Ed25519 keys warn
    /// that the large mailbox providers verify only rsa-sha256.
    /// </summary>
    private static async Task<(DoctorCheck[] Checks, bool KeyUsable, bool RsaUsable)> CheckDkimKeysAsync(Context context, CancellationToken cancellationToken)
    {
        var keys = context.Request.DkimKeys();
        if (keys.Count == 0)
        {
            return ([new DoctorCheck(DoctorCheckIds.Dkim, DkimTitle, DoctorStatus.Skipped, "Not checked: no DKIM selector given.", "Give the selector (and the private key file) that DirectMail signs with to check the published key.")], false, false);
        }

        var pending = new Task<DkimOutcome>[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var title = keys.Count == 1 ? DkimTitle : $"{DkimTitle} ({keys[i].Selector})";
            pending[i] = CheckDkimAsync(context, keys[i], title, cancellationToken);
        }

        var outcomes = await Task.WhenAll(pending).ConfigureAwait(false);
        var rsaWorks = outcomes.Any(o => o.Usable && o.KeyType == Rsa);
        var checks = new DoctorCheck[outcomes.Length];
        for (var i = 0; i < outcomes.Length; i++)
        {
            var check = outcomes[i].Check;
            checks[i] = !rsaWorks && outcomes[i].Usable && outcomes[i].KeyType == Ed25519 ? Ed25519Only(check, keys.Count) : check;
        }

        return (checks, outcomes.Any(o => o.Usable), rsaWorks);
    }

    /// <summary>An Ed25519 key without a working RSA key beside it: a warning, since Gmail, Outlook and Yahoo verify only rsa-sha256.</summary>
    private static DoctorCheck Ed25519Only(DoctorCheck check, int selectors)
    {
        var found = check.Found + (selectors == 1 ? " It is the only DKIM key checked" : " No RSA key checked here works beside it")
            + ": Gmail, Outlook and Yahoo verify only rsa-sha256, so to them mail signed with it alone is unsigned, and DMARC there rests on SPF.";
        var fix = (check.Fix is null ? string.Empty : check.Fix + " ")
            + "Sign with an RSA key as well, at another selector (dual signing: every key of the domain signs each message; 'directmail dkim keygen' makes the RSA key), and check both selectors.";
        return new DoctorCheck(check.Id, check.Title, DoctorStatus.Warn, found, fix, check.Details);
    }

    private static async Task<DkimOutcome> CheckDkimAsync(Context context, DoctorDkimKey key, string title, CancellationToken cancellationToken)
    {
        var selector = key.Selector;
        var name = $"{selector}._domainkey.{context.DkimDomain}";
        using var privateKey = ReadPrivateKey(key.PrivateKeyPem, context.Request.Ed25519PublicKey, out var keyError, out var isEd25519, out var ed25519PublicKey);
        var publish = privateKey is not null
            ? $"\"{DkimSigningAlgorithm.RsaSha256.DnsRecord(privateKey.ExportSubjectPublicKeyInfo())}\""
            : isEd25519
                ? $"\"v=DKIM1; k={Ed25519}; p={(ed25519PublicKey is null ? "<the 32-octet public key, base64>" : Convert.ToBase64String(ed25519PublicKey))}\""
                : "\"v=DKIM1; k=rsa; p=<the public key, base64>\"";
        var publishFix = $"Publish a TXT record at {name}: {publish}.";
        DkimOutcome Fail(string found, string fix) => new(new DoctorCheck(DoctorCheckIds.Dkim, title, DoctorStatus.Fail, found, fix), false, null);
        DkimOutcome Usable(DoctorStatus status, string found, string keyType, string? fix = null) => new(new DoctorCheck(DoctorCheckIds.Dkim, title, status, found, fix), true, keyType);

        if (keyError is not null)
        {
            return Fail($"The private key configured for selector {selector} cannot be read: {keyError}.", "Give the private key as an unencrypted PEM file (PKCS#1 'RSA PRIVATE KEY' or PKCS#8 'PRIVATE KEY', RSA or Ed25519), as 'directmail dkim keygen' writes it.");
        }

        var txt = await context.Dns.TxtAsync(name, cancellationToken).ConfigureAwait(false);
        if (txt.Outcome == DnsOutcome.Failed)
        {
            return Fail($"The TXT query for {name} failed: {txt.Error}.", "Check that the domain's name servers answer, then run the doctor again.");
        }

        if (txt.Values.Count == 0)
        {
            return Fail($"No DKIM key record: {txt.Describe(name, "TXT")}.", publishFix);
        }

        var parsed = new List<DkimKeyRecord>();
        string? parseError = null;
        foreach (var value in txt.Values)
        {
            var candidate = DkimKeyRecord.Parse(value, out var error);
            if (candidate is null)
            {
                parseError ??= $"'{Shorten(value)}': {error}";
            }
            else
            {
                parsed.Add(candidate);
            }
        }

        if (parsed.Count == 0)
        {
            return Fail($"The TXT record at {name} is not a DKIM key record: {parseError}.", publishFix);
        }

        if (parsed.Count > 1)
        {
            return Fail($"{name} has {parsed.Count} DKIM key records; verifiers may use any of them.", $"Keep one TXT record at {name}: {publish}.");
        }

        var record = parsed[0];
        if (record.IsRevoked)
        {
            return Fail($"The key at {name} is revoked (empty p=, RFC 6376 section 3.6.1): signatures with selector {selector} do not verify.", key.PrivateKeyPem is null ? $"Sign with another selector whose key is published, or publish the key again at {name}." : publishFix);
        }

        if (!record.Services.Contains("*") && !record.Services.Contains("email"))
        {
            return Fail($"The key at {name} is limited to s={string.Join(':', record.Services)}, not email.", publishFix);
        }

        if (record.HashAlgorithms is { } hashes && !hashes.Contains("sha256"))
        {
            return Fail($"The key at {name} allows h={string.Join(':', hashes)}, not sha256.", "Remove the h= tag or include sha256 in it.");
        }

        string found;
        if (record.KeyType == Ed25519)
        {
            var published = record.Ed25519Key(out var ed25519Error);
            if (published is null)
            {
                // Without a configured key the record to publish is still an ed25519 one.
                var fix = key.PrivateKeyPem is null ? $"Publish a TXT record at {name}: \"v=DKIM1; k={Ed25519}; p=<the 32-octet public key, base64>\" ('directmail dkim keygen --algorithm ed25519' prints it)." : publishFix;
                return Fail($"The ed25519 key at {name} cannot be used: {ed25519Error}.", fix);
            }

            if (privateKey is not null)
            {
                return Fail($"The key at {name} is ed25519 (k=ed25519) and the private key configured for it is RSA: rsa-sha256 signatures with selector {selector} will not verify.", $"Publish the RSA key at {selector} ({publish}), or configure the ed25519 private key that signs with it.");
            }

            if (ed25519PublicKey is not null && !published.AsSpan().SequenceEqual(ed25519PublicKey))
            {
                return Fail($"The ed25519 key at {name} is not the public half of the configured private key: signatures will not verify.", publishFix);
            }

            if (isEd25519 && ed25519PublicKey is null)
            {
                return Usable(DoctorStatus.Warn, $"{name} publishes an ed25519 key (RFC 8463), not compared with the configured ed25519 private key: no Ed25519 key reader was given.", Ed25519, "Set DoctorRequest.Ed25519PublicKey = DkimEd25519.PublicKey (package DirectMail.Dkim.Ed25519) to compare them ('directmail doctor' does).");
            }

            found = $"{name} publishes an ed25519 key (RFC 8463)" + (ed25519PublicKey is null ? " (not compared: no private key given)" : " matching the configured private key");
            return record.IsTesting
                ? Usable(DoctorStatus.Warn, found + ", in testing mode (t=y).", Ed25519, "Remove t=y once signing works: receivers may treat signatures of a domain in testing mode as absent.")
                : Usable(DoctorStatus.Pass, found + ".", Ed25519);
        }

        using var publishedRsa = record.ImportRsa(out var importError);
        if (publishedRsa is null)
        {
            return Fail($"The key at {name} cannot be read: {importError}.", publishFix);
        }

        var bits = publishedRsa.KeySize;
        if (bits < 1024)
        {
            // RFC 8301 section 3.2: verifiers must not consider keys under 1024 bits valid.
            return Fail($"The RSA key at {name} has {bits} bits; verifiers reject keys under 1024 bits (RFC 8301 section 3.2).", "Generate a 2048-bit key ('directmail dkim keygen') and publish it.");
        }

        if (isEd25519)
        {
            return Fail($"The key at {name} is RSA (k=rsa) and the private key configured for it is ed25519: ed25519-sha256 signatures with selector {selector} will not verify.", $"Publish the ed25519 key at {selector} ({publish}), or configure the RSA private key that signs with it.");
        }

        if (privateKey is not null && !SameRsaKey(publishedRsa, privateKey))
        {
            return Fail($"The RSA key at {name} ({bits} bits) is not the public half of the configured private key: signatures will not verify.", publishFix);
        }

        found = $"{name} publishes a {bits}-bit RSA key" + (privateKey is null ? " (not compared: no private key given)" : " matching the configured private key");
        if (record.IsTesting)
        {
            return Usable(DoctorStatus.Warn, found + ", in testing mode (t=y).", Rsa, "Remove t=y once signing works: receivers may treat signatures of a domain in testing mode as absent.");
        }

        return bits < 2048
            ? Usable(DoctorStatus.Warn, found + ".", Rsa, "1024-bit keys are the minimum; use 2048 bits (RFC 8301 section 3.2 recommends at least 2048 for signers).")
            : Usable(DoctorStatus.Pass, found + ".", Rsa);
    }

    /// <summary>The DER encoding of the OID 1.3.101.112, id-Ed25519 (RFC 8410).</summary>
    private static ReadOnlySpan<byte> Ed25519Oid => [0x06, 0x03, 0x2b, 0x65, 0x70];

    /// <summary>
    /// Reads the configured private key: an RSA key with .NET's RSA; an Ed25519 key (PKCS#8 with id-Ed25519) is
    /// recognised, and its public key read by <paramref name="ed25519Reader"/> when one is given (the doctor has no
    /// Ed25519 implementation of its own). Null without error when no key is configured.
    /// </summary>
    private static RSA? ReadPrivateKey(string? pem, Func<string, byte[]>? ed25519Reader, out string? error, out bool isEd25519, out byte[]? ed25519PublicKey)
    {
        error = null;
        isEd25519 = false;
        ed25519PublicKey = null;
        if (pem is null)
        {
            return null;
        }

        if (PemEncoding.TryFind(pem, out var fields) && pem[fields.Label] == "PRIVATE KEY")
        {
            var der = new byte[fields.DecodedDataLength];
            if (Convert.TryFromBase64Chars(pem[fields.Base64Data], der, out _)
                && der.AsSpan().IndexOf(Ed25519Oid) >= 0)
            {
                CryptographicOperations.ZeroMemory(der);
                isEd25519 = true;
                ed25519PublicKey = ReadEd25519PublicKey(pem, ed25519Reader, out error);
                return null;
            }

            CryptographicOperations.ZeroMemory(der);
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            error = e.Message.TrimEnd('.');
            return null;
        }
    }

    private static byte[]? ReadEd25519PublicKey(string pem, Func<string, byte[]>? reader, out string? error)
    {
        error = null;
        if (reader is null)
        {
            return null;
        }

        byte[] key;
        try
        {
            key = reader(pem);
        }
        catch (DkimKeyException e)
        {
            error = e.Reason.TrimEnd('.');
            return null;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or CryptographicException)
        {
            error = e.Message.TrimEnd('.');
            return null;
        }

        if (key is not { Length: DkimKeyRecord.Ed25519KeyLength })
        {
            error = $"the Ed25519 key reader returned {key?.Length ?? 0} octets, not the {DkimKeyRecord.Ed25519KeyLength} of an Ed25519 public key";
            return null;
        }

        return key;
    }

    private static bool SameRsaKey(RSA published, RSA privateKey)
    {
        var a = published.ExportParameters(includePrivateParameters: false);
        var b = privateKey.ExportParameters(includePrivateParameters: false);
        return a.Modulus.AsSpan().SequenceEqual(b.Modulus) && a.Exponent.AsSpan().SequenceEqual(b.Exponent);
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    // ---- DMARC -------------------------------------------------------------------------------------------------

    private const string DmarcTitle = "DMARC";

    private static async Task<(DoctorCheck Check, DmarcRecord? Record)> CheckDmarcAsync(Context context, CancellationToken cancellationToken)
    {
        var domain = context.Domain;
        var fix = $"Publish a TXT record at _dmarc.{domain}: \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\", then move to p=quarantine or p=reject once the reports show your mail aligned.";
        DoctorCheck Fail(string found, string? why = null) => new(DoctorCheckIds.Dmarc, DmarcTitle, DoctorStatus.Fail, found, why ?? fix);

        // The organisational domain (RFC 7489 section 3.2) needs the Public Suffix List; the parent domain stands in for it.
        var name = "_dmarc." + domain;
        var (answer, records) = await DmarcRecordsAsync(context.Dns, name, cancellationToken).ConfigureAwait(false);
        var inherited = false;
        var parent = Parent(domain);
        if (answer.Outcome != DnsOutcome.Failed && records.Count == 0 && parent is not null && parent.Contains('.', StringComparison.Ordinal))
        {
            var parentName = "_dmarc." + parent;
            var (parentAnswer, parentRecords) = await DmarcRecordsAsync(context.Dns, parentName, cancellationToken).ConfigureAwait(false);
            if (parentAnswer.Outcome == DnsOutcome.Failed || parentRecords.Count > 0)
            {
                (answer, records, name, inherited) = (parentAnswer, parentRecords, parentName, true);
            }
        }

        if (answer.Outcome == DnsOutcome.Failed)
        {
            return (Fail($"The TXT query for {name} failed: {answer.Error}.", "Check that the domain's name servers answer, then run the doctor again."), null);
        }

        if (records.Count == 0)
        {
            var where = parent is not null && parent.Contains('.', StringComparison.Ordinal) ? $"_dmarc.{domain} or _dmarc.{parent} (the parent, standing in for the organisational domain)" : $"_dmarc.{domain}";
            return (Fail($"No DMARC record at {where}; large receivers require one of bulk senders."), null);
        }

        if (records.Count > 1)
        {
            return (Fail($"{name} has {records.Count} DMARC records; receivers then apply none (RFC 7489 section 6.6.3).", "Keep exactly one v=DMARC1 TXT record at " + name + "."), null);
        }

        var record = DmarcRecord.Parse(records[0], out var error);
        if (record is null)
        {
            return (Fail($"'{Shorten(records[0])}' at {name} is not a valid DMARC record: {error}.", $"Correct the record at {name} (RFC 7489 section 6.3), for example \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\"."), null);
        }

        var policy = inherited ? record.SubdomainPolicy ?? record.Policy : record.Policy;
        var found = inherited
            ? $"No record at _dmarc.{domain}; the parent's {name} applies (standing in for the organisational domain): policy {policy} for subdomains"
            : $"{name}: policy p={policy}";
        found += record.Percent < 100 ? $", applied to {record.Percent}% of failing mail" : string.Empty;
        found += $", SPF alignment {(record.StrictSpf ? "strict" : "relaxed")}, DKIM alignment {(record.StrictDkim ? "strict" : "relaxed")}";
        found += record.ReportTo is null ? ", no aggregate reports (rua=)." : $", reports to {record.ReportTo}.";
        if (policy == "none")
        {
            return (new DoctorCheck(DoctorCheckIds.Dmarc, DmarcTitle, DoctorStatus.Warn, found, "p=none only monitors: once the aggregate reports show your mail passing, move to p=quarantine, then p=reject." + (record.ReportTo is null ? " Add rua=mailto:... to receive the reports." : string.Empty)), record);
        }

        return (new DoctorCheck(DoctorCheckIds.Dmarc, DmarcTitle, DoctorStatus.Pass, found), record);
    }

    private static async Task<(DnsAnswer<string> Answer, List<string> Records)> DmarcRecordsAsync(IDoctorDns dns, string name, CancellationToken cancellationToken)
    {
        var answer = await dns.TxtAsync(name, cancellationToken).ConfigureAwait(false);
        return (answer, answer.Values.Where(DmarcRecord.IsDmarc).ToList());
    }

    private static string? Parent(string domain)
    {
        var dot = domain.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? null : domain[(dot + 1)..];
    }

    // ---- Alignment ---------------------------------------------------------------------------------------------

    private const string AlignmentTitle = "DMARC alignment";

    private static DoctorCheck CheckAlignment(Context context, SpfResult spf, bool dkimUsable, bool dkimRsaUsable, DmarcRecord? dmarc)
    {
        var spfChecked = context.Ip is not null;
        var dkimChecked = context.Request.DkimSelector is not null || context.Request.AdditionalDkimKeys.Count > 0;
        if (!spfChecked && !dkimChecked)
        {
            return new DoctorCheck(DoctorCheckIds.Alignment, AlignmentTitle, DoctorStatus.Skipped, "Not checked: give the sending address (for SPF) or the DKIM selector.", null);
        }

        // RFC 7489 section 3.1: relaxed alignment needs the same organisational domain, strict the same domain.
        var strictSpf = dmarc?.StrictSpf ?? false;
        var strictDkim = dmarc?.StrictDkim ?? false;
        var spfIdentifierAligned = Aligned(context.MailFromDomain, context.Domain, strictSpf);
        var dkimIdentifierAligned = Aligned(context.DkimDomain, context.Domain, strictDkim);
        var spfAligned = spfChecked && spf == SpfResult.Pass && spfIdentifierAligned;
        var dkimAligned = dkimChecked && dkimUsable && dkimIdentifierAligned;

        var spfText = !spfChecked
            ? "SPF not checked (no sending address)"
            : spf != SpfResult.Pass
                ? $"SPF does not pass for {context.MailFromDomain}"
                : spfIdentifierAligned
                    ? $"SPF passes for {context.MailFromDomain}, aligned with From {context.Domain} ({(strictSpf ? "strict" : "relaxed")})"
                    : $"SPF passes for {context.MailFromDomain}, not aligned with From {context.Domain} ({(strictSpf ? "strict" : "relaxed")})";
        var dkimText = !dkimChecked
            ? "DKIM not checked (no selector)"
            : !dkimUsable
                ? $"DKIM with d={context.DkimDomain} would not verify"
                : dkimIdentifierAligned
                    ? $"DKIM d={context.DkimDomain} aligned with From {context.Domain} ({(strictDkim ? "strict" : "relaxed")})"
                    : $"DKIM d={context.DkimDomain} not aligned with From {context.Domain} ({(strictDkim ? "strict" : "relaxed")})";
        var found = $"{spfText}; {dkimText}.";

        if (dkimAligned && dkimRsaUsable)
        {
            return new DoctorCheck(DoctorCheckIds.Alignment, AlignmentTitle, DoctorStatus.Pass, found);
        }

        if (dkimAligned)
        {
            // Only an Ed25519 key works: RFC 8463 verifiers pass DMARC on it, the large mailbox providers do not.
            return new DoctorCheck(DoctorCheckIds.Alignment, AlignmentTitle, DoctorStatus.Warn, found[..^1] + ", with an ed25519 key only, which Gmail, Outlook and Yahoo do not verify" + (spfAligned ? ": there, only SPF aligns." : ": there, DMARC fails."), $"Sign with an RSA key as well, as {context.Domain} (d={context.DkimDomain}), so that DMARC passes at every receiver.");
        }

        if (spfAligned)
        {
            return new DoctorCheck(DoctorCheckIds.Alignment, AlignmentTitle, DoctorStatus.Warn, found, $"Only SPF aligns, and SPF breaks when mail is forwarded: sign with DKIM as {context.Domain} (a selector with its key published) so that DMARC passes after forwarding.");
        }

        return new DoctorCheck(DoctorCheckIds.Alignment, AlignmentTitle, DoctorStatus.Fail, found, $"DMARC passes only when SPF or DKIM passes for a domain aligned with the From domain {context.Domain}: fix the SPF and DKIM findings above{(spfIdentifierAligned && dkimIdentifierAligned ? string.Empty : $", and use MAIL FROM and DKIM domains {(strictSpf || strictDkim ? "equal to" : "within")} {context.Domain}")}.");
    }

    /// <summary>
    /// Identifier alignment (RFC 7489 section 3.1). Strict: the same name. Relaxed: the same organisational domain,
    /// approximated without the Public Suffix List as: one name is the other or under it, or both are children of the
    /// same parent of at least two labels.
    /// </summary>
    internal static bool Aligned(string identifier, string fromDomain, bool strict)
    {
        if (identifier == fromDomain)
        {
            return true;
        }

        if (strict)
        {
            return false;
        }

        if (identifier.EndsWith("." + fromDomain, StringComparison.Ordinal) || fromDomain.EndsWith("." + identifier, StringComparison.Ordinal))
        {
            return true;
        }

        var a = Parent(identifier);
        return a is not null && a.Contains('.', StringComparison.Ordinal) && a == Parent(fromDomain);
    }

    // ---- Reverse DNS and HELO ----------------------------------------------------------------------------------

    private const string PtrTitle = "Reverse DNS (PTR)";
    private const string FcrdnsTitle = "Forward-confirmed rDNS";
    private const string HeloTitle = "HELO name";

    private static async Task<(DoctorCheck Ptr, DoctorCheck Fcrdns, DoctorCheck Helo)> CheckReverseAsync(Context context, CancellationToken cancellationToken)
    {
        var ip = context.Ip;
        var helo = context.Request.HeloName;
        if (ip is null)
        {
            var noIp = "Not checked: no sending address given.";
            var heloCheck = helo is null
                ? new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Skipped, "Not checked: no HELO name given.")
                : await CheckHeloWithoutAddressAsync(context, helo, cancellationToken).ConfigureAwait(false);
            return (new DoctorCheck(DoctorCheckIds.Ptr, PtrTitle, DoctorStatus.Skipped, noIp, "Give the public address mail leaves from to check its reverse DNS."),
                new DoctorCheck(DoctorCheckIds.Fcrdns, FcrdnsTitle, DoctorStatus.Skipped, noIp),
                heloCheck);
        }

        var suggestedName = helo is not null && !helo.StartsWith('[') ? helo.TrimEnd('.') : "mail." + context.Domain;
        var ptrs = await context.Dns.PtrAsync(ip, cancellationToken).ConfigureAwait(false);
        DoctorCheck ptr;
        DoctorCheck fcrdns;
        var confirmed = new List<string>();
        if (ptrs.Outcome == DnsOutcome.Failed)
        {
            ptr = new DoctorCheck(DoctorCheckIds.Ptr, PtrTitle, DoctorStatus.Fail, $"The PTR query for {ip} ({ip.GetArpaName()}) failed: {ptrs.Error}.", "Check that the reverse zone's name servers answer, then run the doctor again.");
            fcrdns = new DoctorCheck(DoctorCheckIds.Fcrdns, FcrdnsTitle, DoctorStatus.Skipped, "Not checked: the PTR lookup failed.");
        }
        else if (ptrs.Values.Count == 0)
        {
            // Gmail, Outlook and others refuse or junk mail from addresses without reverse DNS.
            ptr = new DoctorCheck(DoctorCheckIds.Ptr, PtrTitle, DoctorStatus.Fail, $"{ip} has no PTR record ({ptrs.Describe(ip.GetArpaName(), "PTR")}); many receivers refuse mail from such addresses.", $"Ask whoever holds the address (your hosting provider or ISP; the reverse zone is theirs) to set its PTR to {suggestedName}, and give that name an {(ip.AddressFamily == AddressFamily.InterNetworkV6 ? "AAAA" : "A")} record of {ip}.");
            fcrdns = new DoctorCheck(DoctorCheckIds.Fcrdns, FcrdnsTitle, DoctorStatus.Skipped, "Not checked: no PTR record.");
        }
        else
        {
            var names = ptrs.Values.Take(10).ToList();
            ptr = new DoctorCheck(DoctorCheckIds.Ptr, PtrTitle, DoctorStatus.Pass, $"{ip} has PTR {string.Join(", ", names)}.");
            var mismatches = new List<string>();
            foreach (var name in names)
            {
                var forward = await context.Dns.AddressesAsync(name, ip.AddressFamily, cancellationToken).ConfigureAwait(false);
                if (forward.Values.Any(a => a.Equals(ip)))
                {
                    confirmed.Add(name);
                }
                else
                {
                    mismatches.Add(forward.Values.Count > 0 ? $"{name} resolves to {string.Join(", ", forward.Values)}" : forward.Describe(name, ip.AddressFamily == AddressFamily.InterNetworkV6 ? "AAAA" : "A"));
                }
            }

            fcrdns = confirmed.Count > 0
                ? new DoctorCheck(DoctorCheckIds.Fcrdns, FcrdnsTitle, DoctorStatus.Pass, $"{string.Join(", ", confirmed)} resolves back to {ip}.")
                : new DoctorCheck(DoctorCheckIds.Fcrdns, FcrdnsTitle, DoctorStatus.Fail, $"The PTR name does not resolve back to {ip}: {string.Join("; ", mismatches)}.", $"Give {names[0]} an {(ip.AddressFamily == AddressFamily.InterNetworkV6 ? "AAAA" : "A")} record of {ip}, or have the PTR changed to a name that has one.");
        }

        if (helo is null)
        {
            return (ptr, fcrdns, new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Skipped, "Not checked: no HELO name given.", "Give the EHLO name DirectMail uses (DirectMailOptions.HeloName) to compare it with the reverse DNS."));
        }

        return (ptr, fcrdns, await CheckHeloAsync(context, helo, ip, ptrs.Values, confirmed, cancellationToken).ConfigureAwait(false));
    }

    private static string? HeloSyntaxError(string helo)
    {
        try
        {
            SmtpSyntax.ValidateHeloName(helo, nameof(DoctorRequest.HeloName));
        }
        catch (ArgumentException e)
        {
            var message = e.Message;
            var suffix = message.IndexOf(" (Parameter", StringComparison.Ordinal);
            return suffix < 0 ? message : message[..suffix];
        }

        return !helo.StartsWith('[') && !helo.TrimEnd('.').Contains('.', StringComparison.Ordinal)
            ? $"The EHLO name '{helo}' is not fully qualified (RFC 5321 section 4.1.1.1); receivers refuse names such as 'localhost' or a bare host name."
            : null;
    }

    private static async Task<DoctorCheck> CheckHeloAsync(Context context, string helo, IPAddress ip, IReadOnlyList<string> ptrNames, List<string> confirmed, CancellationToken cancellationToken)
    {
        var fixName = confirmed.Count > 0 ? confirmed[0] : ptrNames.Count > 0 ? ptrNames[0] : "mail." + context.Domain;
        if (HeloSyntaxError(helo) is { } error)
        {
            return new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Fail, error, $"Set DirectMailOptions.HeloName to this host's fully qualified name, {fixName}.");
        }

        if (helo.StartsWith('['))
        {
            return new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Warn, $"The EHLO name is the address literal {helo}; receivers accept it but score it as a sign of a badly configured sender.", $"Use the host name that the PTR of {ip} gives, {fixName}.");
        }

        var name = helo.TrimEnd('.').ToLowerInvariant();
        if (confirmed.Contains(name))
        {
            return new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Pass, $"{name} is the forward-confirmed PTR name of {ip}.");
        }

        // RFC 5321 section 4.1.4: a server must not refuse mail because the EHLO name does not match the client's
        // address, so a mismatch is a warning: receivers use it in spam scoring only.
        var forward = await context.Dns.AddressesAsync(name, ip.AddressFamily, cancellationToken).ConfigureAwait(false);
        var resolves = forward.Values.Any(a => a.Equals(ip));
        var ptrText = ptrNames.Count == 0 ? $"{ip} has no PTR" : $"the PTR of {ip} is {string.Join(", ", ptrNames)}";
        var found = ptrNames.Contains(name)
            ? $"{name} is the PTR name of {ip}, but does not resolve back to it."
            : resolves
                ? $"{name} resolves to {ip}, but {ptrText}."
                : $"{name} does not match: {ptrText}, and {name} {(forward.Values.Count > 0 ? "resolves to " + string.Join(", ", forward.Values) : "has no address record")}.";
        return new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Warn, found, ptrNames.Count > 0
            ? $"Set DirectMailOptions.HeloName to {fixName}, the name the PTR gives (and make sure it resolves to {ip})."
            : $"Have the PTR of {ip} set to {name} and make sure {name} resolves to {ip}.");
    }

    private static async Task<DoctorCheck> CheckHeloWithoutAddressAsync(Context context, string helo, CancellationToken cancellationToken)
    {
        if (HeloSyntaxError(helo) is { } error)
        {
            return new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Fail, error, $"Set DirectMailOptions.HeloName to this host's fully qualified name, such as mail.{context.Domain}.");
        }

        if (helo.StartsWith('['))
        {
            return new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Warn, $"The EHLO name is the address literal {helo}; receivers accept it but score it down.", "Use the host name that the sending address's PTR gives.");
        }

        var name = helo.TrimEnd('.').ToLowerInvariant();
        var v4 = await context.Dns.AddressesAsync(name, AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false);
        var v6 = await context.Dns.AddressesAsync(name, AddressFamily.InterNetworkV6, cancellationToken).ConfigureAwait(false);
        var addresses = v4.Values.Concat(v6.Values).ToList();
        return addresses.Count > 0
            ? new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Pass, $"{name} resolves to {string.Join(", ", addresses)} (not compared with the reverse DNS: no sending address given).")
            : new DoctorCheck(DoctorCheckIds.Helo, HeloTitle, DoctorStatus.Warn, $"{name} has no address record.", $"Give {name} an A record of the sending address, and have that address's PTR set to {name}.");
    }

    // ---- Port 25 -----------------------------------------------------------------------------------------------

    private Task<DoctorCheck> CheckPort25Async(Context context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var probe = DoctorRequest.Normalize(request.Port25ProbeDomain, nameof(request.Port25ProbeDomain), required: false);
        if (probe is null)
        {
            return Task.FromResult(new DoctorCheck(DoctorCheckIds.Port25, Port25Probe.Title, DoctorStatus.Skipped, "Not checked (opt-in): no probe domain given; no connection was made."));
        }

        return Port25Probe.ProbeAsync(new MxResolver(ResolverOptions(request), logger: null), probe, request.Port25ProbePort, request.Port25Timeout, request.AllowNonPublicProbeAddress, _logger, cancellationToken);
    }
}
