using System;
using System.Collections.Generic;

namespace DirectMail.Smtp;

/// <summary>
/// The envelope of one SMTP transaction (RFC 5321 section 2.3.1): the reverse path for MAIL FROM and the forward
/// paths for RCPT TO. Every address is checked when the envelope is made, before anything is sent.
/// </summary>
public sealed class SmtpEnvelope
{
    private readonly string[] _recipients;
    private readonly string[] _wireRecipients;
    private readonly string[] _recipientDomains;
    private readonly bool[]? _recipientNeedsUtf8;

    // DSN (RFC 3461): the RCPT TO line's end (">" and the parameters) per recipient, null when no recipient has any;
    // the SMTPUTF8 form only where a non-ASCII ORCPT differs. The parameters as given, for what reads them back.
    private readonly string?[]? _rcptSuffix;
    private readonly string?[]? _rcptSuffixUtf8;
    private readonly DsnNotify[]? _notify;
    private readonly string?[]? _originalRecipients;
    private readonly string? _envelopeId;
    private readonly DsnReturn? _dsnReturn;

    /// <summary>Creates an envelope.</summary>
    /// <param name="sender">The reverse path without angle brackets; empty for a null sender (bounces and notifications).</param>
    /// <param name="recipients">
    /// One or more recipient addresses without angle brackets; duplicates are removed, the first kept. Addresses are
    /// compared in their wire form: domain in A-labels, without case and without a root dot, address literal in one spelling.
    /// </param>
    /// <exception cref="ArgumentException">An address is malformed, holds CR, LF or another control character, or there is no recipient.</exception>
    public SmtpEnvelope(string sender, IEnumerable<string> recipients)
        : this(sender, AsRecipients(recipients))
    {
    }

    /// <summary>Creates an envelope whose recipients carry delivery status notification parameters (RFC 3461).</summary>
    /// <param name="sender">The reverse path without angle brackets; empty for a null sender (bounces and notifications).</param>
    /// <param name="recipients">
    /// One or more recipients; duplicate addresses are removed, the first kept (with its parameters). Addresses are
    /// compared in their wire form, as for the other constructor.
    /// </param>
    /// <exception cref="ArgumentException">
    /// An address is malformed or holds a control character, there is no recipient, NOTIFY=NEVER is combined with
    /// another value, or an original recipient is not an address or is over 500 characters as sent.
    /// </exception>
    public SmtpEnvelope(string sender, IEnumerable<SmtpRecipient> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        WireSender = SmtpSyntax.NormalizeMailbox(sender, nameof(sender), allowEmpty: true, out var senderUtf8);
        Sender = sender;
        SenderNeedsSmtpUtf8 = senderUtf8;

        var list = new List<string>();
        var wire = new List<string>();
        var domains = new List<string>();
        List<bool>? utf8 = null;
        List<string?>? suffix = null;
        List<string?>? suffixUtf8 = null;
        List<DsnNotify>? notify = null;
        List<string?>? original = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var recipient in recipients)
        {
            ArgumentNullException.ThrowIfNull(recipient, nameof(recipients));
            var normalized = SmtpSyntax.NormalizeMailbox(recipient.Address, nameof(recipients), allowEmpty: false, out var needsUtf8);

            // The local part is case-sensitive in principle (RFC 5321 section 2.4); the domain is not. The wire form has
            // no root dot, so "a@example.com." and "a@example.com" are one recipient.
            var at = normalized.LastIndexOf('@');
            var domain = normalized.Substring(at + 1).ToLowerInvariant();
            if (!seen.Add(domain.AsSpan().SequenceEqual(normalized.AsSpan(at + 1)) ? normalized : string.Concat(normalized.AsSpan(0, at + 1), domain)))
            {
                continue;
            }

            if (needsUtf8 && utf8 is null)
            {
                utf8 = new List<bool>(new bool[list.Count]);
            }

            var notifyParameter = DsnParameters.Notify(recipient.Notify, nameof(recipients));
            (string Ascii, string? Utf8)? orcpt = recipient.OriginalRecipient is { } o ? DsnParameters.OriginalRecipient(o, nameof(recipients)) : null;
            if ((notifyParameter is not null || orcpt is not null) && suffix is null)
            {
                suffix = new List<string?>(new string?[list.Count]);
                notify = new List<DsnNotify>(new DsnNotify[list.Count]);
                original = new List<string?>(new string?[list.Count]);
            }

            if (orcpt?.Utf8 is not null && suffixUtf8 is null)
            {
                suffixUtf8 = new List<string?>(new string?[list.Count]);
            }

            list.Add(recipient.Address);
            wire.Add(normalized);
            domains.Add(domain);
            utf8?.Add(needsUtf8);
            if (suffix is not null)
            {
                var any = notifyParameter is not null || orcpt is not null;
                suffix.Add(any ? ">" + notifyParameter + orcpt?.Ascii : null);
                suffixUtf8?.Add(orcpt?.Utf8 is { } u ? ">" + notifyParameter + u : null);
                notify!.Add(recipient.Notify);
                original!.Add(recipient.OriginalRecipient);
            }
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("An envelope needs at least one recipient.", nameof(recipients));
        }

        _recipients = list.ToArray();
        _wireRecipients = wire.ToArray();
        _recipientDomains = domains.ToArray();
        _recipientNeedsUtf8 = utf8?.ToArray();
        _rcptSuffix = suffix?.ToArray();
        _rcptSuffixUtf8 = suffixUtf8?.ToArray();
        _notify = notify?.ToArray();
        _originalRecipients = original?.ToArray();
    }

    private SmtpEnvelope(SmtpEnvelope source, ReadOnlySpan<int> indexes)
    {
        Sender = source.Sender;
        WireSender = source.WireSender;
        SenderNeedsSmtpUtf8 = source.SenderNeedsSmtpUtf8;
        _dsnReturn = source._dsnReturn;
        RequireTls = source.RequireTls;
        _envelopeId = source._envelopeId;
        WireEnvelopeId = source.WireEnvelopeId;
        _recipients = Pick(source._recipients, indexes)!;
        _wireRecipients = Pick(source._wireRecipients, indexes)!;
        _recipientDomains = Pick(source._recipientDomains, indexes)!;
        _recipientNeedsUtf8 = Pick(source._recipientNeedsUtf8, indexes);
        _rcptSuffix = Pick(source._rcptSuffix, indexes);
        _rcptSuffixUtf8 = Pick(source._rcptSuffixUtf8, indexes);
        _notify = Pick(source._notify, indexes);
        _originalRecipients = Pick(source._originalRecipients, indexes);
    }

    /// <summary>Creates an envelope.</summary>
    /// <param name="sender">The reverse path without angle brackets; empty for a null sender.</param>
    /// <param name="recipients">One or more recipient addresses.</param>
    public SmtpEnvelope(string sender, params string[] recipients)
        : this(sender, (IEnumerable<string>)recipients)
    {
    }

    /// <summary>The reverse path as given.</summary>
    public string Sender { get; }

    /// <summary>The recipients as given, without duplicates, in order.</summary>
    public IReadOnlyList<string> Recipients => _recipients;

    /// <summary>True when the sender's local part is non-ASCII and can only be sent to a server offering SMTPUTF8.</summary>
    public bool SenderNeedsSmtpUtf8 { get; }

    internal string WireSender { get; }

    /// <summary>
    /// The domain of <see cref="Recipients"/>[<paramref name="index"/>] as mail is routed to it: A-labels (a Unicode
    /// domain converted), lower case, without the root dot; an address literal in one spelling, lower case
    /// (<c>[192.0.2.1]</c>, <c>[ipv6:2001:db8::1]</c>). Recipients with the same domain go to the same servers.
    /// </summary>
    /// <param name="index">The recipient's index in <see cref="Recipients"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not an index of <see cref="Recipients"/>.</exception>
    public string GetRecipientDomain(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _recipientDomains.Length);
        return _recipientDomains[index];
    }

    internal string GetWireRecipient(int index) => _wireRecipients[index];

    internal bool RecipientNeedsSmtpUtf8(int index) => _recipientNeedsUtf8 is not null && _recipientNeedsUtf8[index];
    /// <summary>
    /// REQUIRETLS (RFC 8689): the message goes only to MX hosts reached with a certificate validated under a DANE or
    /// MTA-STS (enforce) policy that offer REQUIRETLS, with <c>REQUIRETLS</c> on MAIL FROM so that every later hop must
    /// do the same. When no MX host can, its recipients fail at once with 5.7.30 (not retried: no retry makes a host
    /// meet it). Through a configured relay (<c>DirectMail:Relays</c>) it goes only when the relay's certificate is
    /// validated against its configured host name (validation on, or the application's own callback) and the relay
    /// offers REQUIRETLS; otherwise 5.7.30, and nothing after EHLO is sent to it. False (default): the mailer's usual TLS rules. Under it <c>RET=FULL</c> is sent as <c>RET=HDRS</c>, so a
    /// failure notice does not carry the content back over a path that may not protect it. The queue keeps the flag
    /// (<c>MailQueue.EnqueueAsync</c> and the mailer's <c>OnDeferred</c> hand-off): every retry sends with it, and the
    /// queue's notices about such a message go with REQUIRETLS and the original's header only (RFC 8689 section 5).
    /// </summary>
    public bool RequireTls { get; init; }

    /// <summary>
    /// What a failure notification returns of the message (<c>RET</c>, RFC 3461 section 4.3): null (default) sends
    /// no parameter. Sent only to servers that offer DSN.
    /// </summary>
    public DsnReturn? DsnReturn
    {
        get => _dsnReturn;
        init
        {
            if (value is { } v && v != Smtp.DsnReturn.Full && v != Smtp.DsnReturn.Headers)
            {
                throw new ArgumentOutOfRangeException(nameof(value), v, "Not a DSN RET value.");
            }

            _dsnReturn = value;
        }
    }

    /// <summary>
    /// The envelope id the notifications carry back (<c>ENVID</c>, RFC 3461 section 4.4), by which a sender matches
    /// them to what it sent: printable US-ASCII, at most 100 characters once xtext-encoded. Null (default) for none.
    /// Sent only to servers that offer DSN.
    /// </summary>
    /// <exception cref="ArgumentException">Not printable US-ASCII, or too long.</exception>
    public string? DsnEnvelopeId
    {
        get => _envelopeId;
        init
        {
            WireEnvelopeId = value is null ? null : DsnParameters.EncodeEnvelopeId(value, nameof(value));
            _envelopeId = value;
        }
    }

    /// <summary>Whether any DSN parameter is set: RET, ENVID, or a recipient's NOTIFY or ORCPT.</summary>
    public bool HasDsnParameters => _dsnReturn is not null || _envelopeId is not null || _rcptSuffix is not null;

    /// <summary>The recipient's NOTIFY value (<see cref="DsnNotify.Default"/> when none was given).</summary>
    /// <param name="index">The recipient's index in <see cref="Recipients"/>.</param>
    public DsnNotify GetRecipientNotify(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _recipients.Length);
        return _notify is null ? DsnNotify.Default : _notify[index];
    }

    /// <summary>The recipient's original recipient (ORCPT) as given, or null.</summary>
    /// <param name="index">The recipient's index in <see cref="Recipients"/>.</param>
    public string? GetOriginalRecipient(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _recipients.Length);
        return _originalRecipients?[index];
    }

    /// <summary>ENVID in xtext, or null.</summary>
    internal string? WireEnvelopeId { get; private init; }

    /// <summary>
    /// What ends the recipient's RCPT TO line after its address: "&gt;" and, to a server that offers DSN, its NOTIFY
    /// and ORCPT parameters (the ORCPT in its SMTPUTF8 form when <paramref name="smtpUtf8"/>).
    /// </summary>
    internal string GetRcptSuffix(int index, bool dsn, bool smtpUtf8)
    {
        if (!dsn || _rcptSuffix is null)
        {
            return ">";
        }

        return (smtpUtf8 ? _rcptSuffixUtf8?[index] : null) ?? _rcptSuffix[index] ?? ">";
    }

    /// <summary>
    /// The envelope for some of these recipients (by index, in that order), with the same sender and DSN parameters:
    /// nothing is parsed again.
    /// </summary>
    internal SmtpEnvelope Subset(ReadOnlySpan<int> indexes) => new(this, indexes);

    private static IEnumerable<SmtpRecipient> AsRecipients(IEnumerable<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        foreach (var recipient in recipients)
        {
            yield return new SmtpRecipient(recipient);
        }
    }

    private static T[]? Pick<T>(T[]? source, ReadOnlySpan<int> indexes)
    {
        if (source is null)
        {
            return null;
        }

        var picked = new T[indexes.Length];
        for (var i = 0; i < indexes.Length; i++)
        {
            picked[i] = source[indexes[i]];
        }

        return picked;
    }
}
