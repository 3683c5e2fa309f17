using System;
using System.Collections.Generic;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Dsn;

/// <summary>
/// Reads the body of a <c>message/delivery-status</c> (or <c>message/global-delivery-status</c>) part (RFC 3464
/// section 2.1): the per-message fields, then a group of per-recipient fields after each blank line. Only the values
/// that are kept become strings.
/// </summary>
internal sealed class DeliveryStatusReader
{
    public string? ReportingMta { get; private set; }

    public string? EnvelopeId { get; private set; }

    public DateTimeOffset? ArrivalDate { get; private set; }

    public List<BounceRecipient> Recipients { get; } = [];

    public bool Truncated { get; private set; }

    public void Read(ReadOnlySpan<byte> body, int maxRecipients)
    {
        var position = 0;
        var first = true;
        while (position < body.Length)
        {
            // A group runs to the next blank line.
            var start = position;
            var end = GroupEnd(body, ref position);
            var group = body[start..end];
            if (MimeScan.Trim(group).IsEmpty)
            {
                continue;
            }

            if (!ReadGroup(group, first, maxRecipients))
            {
                return;
            }

            first = false;
        }
    }

    private static int GroupEnd(ReadOnlySpan<byte> body, ref int position)
    {
        var at = position;
        while (at < body.Length)
        {
            var lf = body[at..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                position = body.Length;
                return body.Length;
            }

            var lineEnd = at + lf + 1;
            if (lineEnd < body.Length && body[lineEnd] == '\n')
            {
                position = lineEnd + 1;
                return lineEnd;
            }

            if (lineEnd + 1 < body.Length && body[lineEnd] == '\r' && body[lineEnd + 1] == '\n')
            {
                position = lineEnd + 2;
                return lineEnd;
            }

            at = lineEnd;
        }

        position = body.Length;
        return body.Length;
    }

    private bool ReadGroup(ReadOnlySpan<byte> group, bool first, int maxRecipients)
    {
        // Where each per-recipient field's value is in the group (the first of each name), by its index in RecipientFields.
        Span<(int Start, int Length)> found = stackalloc (int, int)[RecipientFields.Length];
        found.Clear();
        var position = 0;
        var count = 0;
        while (count++ < MimeScan.MaxFields && MimeScan.NextField(group, ref position, out var name, out var value))
        {
            if (first)
            {
                if (Is(name, "Reporting-MTA"u8))
                {
                    ReportingMta = DsnText.Untyped(MimeScan.Text(value));
                }
                else if (Is(name, "Original-Envelope-Id"u8))
                {
                    EnvelopeId = MimeScan.Text(value) is { } id ? DsnText.Xtext(id) : null;
                }
                else if (Is(name, "Arrival-Date"u8))
                {
                    ArrivalDate = Date(value);
                }
            }

            for (var i = 0; i < RecipientFields.Length; i++)
            {
                if (found[i].Length == 0 && Is(name, RecipientFields[i]) && group.Overlaps(value, out var offset))
                {
                    found[i] = (offset, value.Length);
                    break;
                }
            }
        }

        var isRecipient = found[FinalRecipient].Length > 0 || found[OriginalRecipient].Length > 0;
        var final = Field(group, found, FinalRecipient);
        var original = Field(group, found, OriginalRecipient);
        var action = Field(group, found, ActionField);
        var status = Field(group, found, StatusField);
        var remote = Field(group, found, RemoteMta);
        var diagnostic = Field(group, found, DiagnosticCode);
        var last = Field(group, found, LastAttemptDate);
        var retry = Field(group, found, WillRetryUntil);
        if (!isRecipient)
        {
            return true;
        }

        var address = DsnText.Address(MimeScan.Text(final)) ?? DsnText.Address(MimeScan.Text(original));
        if (address is null)
        {
            return true;
        }

        if (Recipients.Count >= maxRecipients)
        {
            Truncated = true;
            return false;
        }

        var diagnosticText = DsnText.Untyped(MimeScan.Text(diagnostic));
        var code = Status(MimeScan.Trim(status)) ?? (diagnosticText is null ? null : DsnText.FindStatus(diagnosticText));
        var dsnAction = Action(MimeScan.Trim(action), code);
        Recipients.Add(new BounceRecipient(address, dsnAction, code, BounceClassifier.Classify(dsnAction, code, diagnosticText))
        {
            OriginalRecipient = original.IsEmpty ? null : DsnText.Address(MimeScan.Text(original)),
            RemoteMta = DsnText.Untyped(MimeScan.Text(remote)),
            Diagnostic = diagnosticText,
            LastAttemptDate = Date(last),
            WillRetryUntil = Date(retry),
        });
        return true;
    }

    private const int FinalRecipient = 0, OriginalRecipient = 1, ActionField = 2, StatusField = 3, RemoteMta = 4, DiagnosticCode = 5, LastAttemptDate = 6, WillRetryUntil = 7;

    private static readonly byte[][] RecipientFields =
    [
        "Final-Recipient"u8.ToArray(), "Original-Recipient"u8.ToArray(), "Action"u8.ToArray(), "Status"u8.ToArray(),
        "Remote-MTA"u8.ToArray(), "Diagnostic-Code"u8.ToArray(), "Last-Attempt-Date"u8.ToArray(), "Will-Retry-Until"u8.ToArray(),
    ];

    private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> group, ReadOnlySpan<(int Start, int Length)> found, int index) =>
        found[index].Length == 0 ? default : group.Slice(found[index].Start, found[index].Length);

    private static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> expected) => name.Length == expected.Length && Ascii.EqualsIgnoreCase(name, expected);

    private static EnhancedStatusCode? Status(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value.Length > 64)
        {
            return null;
        }

        Span<char> chars = stackalloc char[value.Length];
        for (var i = 0; i < value.Length; i++)
        {
            chars[i] = (char)value[i];
        }

        var end = chars.IndexOfAny(' ', '\t', '(');
        var token = end < 0 ? chars : chars[..end];
        return EnhancedStatusCode.TryParse(token, out var code, out var length) && length == token.Length ? code : null;
    }

    /// <summary>The action named (comments after it allowed); when missing or unknown, what the status class says.</summary>
    private static DsnAction Action(ReadOnlySpan<byte> value, EnhancedStatusCode? status)
    {
        var end = value.IndexOfAny((byte)' ', (byte)'\t', (byte)'(');
        var token = end < 0 ? value : value[..end];
        if (Is(token, "failed"u8))
        {
            return DsnAction.Failed;
        }

        if (Is(token, "delayed"u8))
        {
            return DsnAction.Delayed;
        }

        if (Is(token, "delivered"u8))
        {
            return DsnAction.Delivered;
        }

        if (Is(token, "relayed"u8))
        {
            return DsnAction.Relayed;
        }

        if (Is(token, "expanded"u8))
        {
            return DsnAction.Expanded;
        }

        return status switch
        {
            { Class: 2 } => DsnAction.Delivered,
            { Class: 4 } => DsnAction.Delayed,
            _ => DsnAction.Failed,
        };
    }

    private static DateTimeOffset? Date(ReadOnlySpan<byte> value)
    {
        value = MimeScan.Trim(value);
        if (value.IsEmpty || value.Length > 128)
        {
            return null;
        }

        Span<char> chars = stackalloc char[value.Length];
        var n = 0;
        foreach (var b in value)
        {
            chars[n++] = b is (byte)'\r' or (byte)'\n' ? ' ' : (char)b;
        }

        return MailDate.Parse(chars[..n]);
    }
}
