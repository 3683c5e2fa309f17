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

    /// <summary>Creates an envelope.</summary>
    /// <param name="sender">The reverse path without angle brackets; empty for a null sender (bounces and notifications).</param>
    /// <param name="recipients">
    /// One or more recipient addresses without angle brackets; duplicates are removed, the first kept. Addresses are
    /// compared in their wire form: domain in A-labels, without case and without a root dot, address literal in one spelling.
    /// </param>
    /// <exception cref="ArgumentException">An address is malformed, holds CR, LF or another control character, or there is no recipient.</exception>
    public SmtpEnvelope(string sender, IEnumerable<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        WireSender = SmtpSyntax.NormalizeMailbox(sender, nameof(sender), allowEmpty: true, out var senderUtf8);
        Sender = sender;
        SenderNeedsSmtpUtf8 = senderUtf8;

        var list = new List<string>();
        var wire = new List<string>();
        var domains = new List<string>();
        List<bool>? utf8 = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var recipient in recipients)
        {
            var normalized = SmtpSyntax.NormalizeMailbox(recipient, nameof(recipients), allowEmpty: false, out var needsUtf8);

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

            list.Add(recipient);
            wire.Add(normalized);
            domains.Add(domain);
            utf8?.Add(needsUtf8);
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("An envelope needs at least one recipient.", nameof(recipients));
        }

        _recipients = list.ToArray();
        _wireRecipients = wire.ToArray();
        _recipientDomains = domains.ToArray();
        _recipientNeedsUtf8 = utf8?.ToArray();
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
}
