using System;
using DirectMail.Smtp;

namespace DirectMail.Suppression;

/// <summary>
/// The one form a suppressed address is stored and looked up in (every store uses it): the local part exactly as given
/// (RFC 5321 section 2.4: only the receiving server may fold its case), the domain as it goes on the wire (A-labels,
/// no root dot) in lower case.
/// </summary>
internal static class SuppressionAddress
{
    public static string Normalize(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var value = address.AsSpan().Trim();
        if (value.Length >= 2 && value[0] == '<' && value[^1] == '>')
        {
            value = value[1..^1];
        }

        var wire = SmtpSyntax.NormalizeMailbox(value.Length == address.Length ? address : value.ToString(), nameof(address), allowEmpty: false, out _);
        var at = wire.LastIndexOf('@');
        if (at <= 0 || at == wire.Length - 1)
        {
            throw new ArgumentException($"'{address}' is not an address (local-part@domain).", nameof(address));
        }

        var domain = wire.AsSpan(at + 1);
        for (var i = 0; i < domain.Length; i++)
        {
            if (char.IsAsciiLetterUpper(domain[i]))
            {
                return string.Concat(wire.AsSpan(0, at + 1), domain.ToString().ToLowerInvariant());
            }
        }

        return wire;
    }
}
