using System;
using System.Collections.Generic;
using System.Text;

namespace DirectMail.Dsn;

/// <summary>
/// Reads the recipients of a bounce that has no delivery-status part, from the text a person reads. Each format is
/// told by a sentence it always writes, and its recipients by where that format puts them:
/// <list type="bullet">
/// <item>qmail ("This is the qmail-send program") and Postfix ("This is the mail system at host"): a line
/// <c>&lt;address&gt;:</c> at the start of a line, the reason after it up to the next blank line.</item>
/// <item>Exim ("This message was created automatically by mail delivery software"): after "address(es) failed:"
/// (or deferred, or "not yet been delivered" in a delay warning), an address indented by one to three spaces, its
/// details indented further; the reason is what follows "SMTP error from remote mail server after ...:", or all the
/// details.</item>
/// <item>Gmail ("Your message wasn't delivered to", "Delivery to the following recipient"): the address in that
/// sentence or on the indented lines after it; the reason after "The response from the remote server was:" or
/// "The error that the other server returned was:", "The response was:" or "Technical details of ... failure:".</item>
/// <item>Exchange and Microsoft 365 ("Delivery has failed to these recipients or groups", "Diagnostic information
/// for administrators"): an address line followed by <c>Remote Server returned '...'</c>, or the address lines of the
/// first list with the explanation under each.</item>
/// </list>
/// Only what is an address (<c>local@domain</c>, no spaces) is a recipient; nothing else is guessed. The status is
/// the first enhanced status code in the reason, or <c>x.0.0</c> from its reply code.
/// </summary>
internal sealed class TextBounceReader
{
    private const int MaxLines = 20_000;

    /// <summary>A reason is kept up to about this many characters.</summary>
    private const int MaxReason = 4096;

    private readonly string _text;
    private readonly List<Range> _lines = [];
    private readonly List<(string Address, string? Diagnostic, string? RemoteMta)> _found = [];

    public TextBounceReader(string text)
    {
        _text = text;
        var position = 0;
        while (position < text.Length && _lines.Count < MaxLines)
        {
            var lf = text.AsSpan(position).IndexOf('\n');
            var end = lf < 0 ? text.Length : position + lf;
            var lineEnd = end > position && text[end - 1] == '\r' ? end - 1 : end;
            _lines.Add(new Range(position, lineEnd));
            position = end + 1;
        }
    }

    private ReadOnlySpan<char> Line(int index) => _text.AsSpan()[_lines[index]];

    private bool Blank(int index) => Line(index).IsWhiteSpace();

    public bool Contains(string marker) => _text.Contains(marker, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the text says the recipients are still being tried (a delay warning, not a failure).</summary>
    public bool SaysDelayed => Contains("will continue trying") || Contains("still being retried") || Contains("has not yet been delivered")
        || Contains("recipient has been delayed") || Contains("temporary problem delivering") || Contains("No action is required on your part");

    /// <summary>The recipients found: address, reason and reporting host, in order, one entry per address.</summary>
    public List<(string Address, string? Diagnostic, string? RemoteMta)> Read()
    {
        if (Contains("qmail-send program") || Contains("This is the mail system at host") || Contains("This is the Postfix program"))
        {
            ReadAngleBlocks();
        }
        else if (Contains("created automatically by mail delivery software"))
        {
            ReadExim();
        }
        else if (Contains("Diagnostic information for administrators") || Contains("Delivery has failed to these recipients") || Contains("couldn't be delivered"))
        {
            ReadExchange();
        }
        else if (Contains("wasn't delivered to") || Contains("Delivery to the following recipient") || Contains("temporary problem delivering your message to"))
        {
            ReadGmail();
        }

        return _found;
    }

    private static bool IsCopyMarker(ReadOnlySpan<char> line)
    {
        var t = line.Trim();
        return t.StartsWith("--- Below this line", StringComparison.OrdinalIgnoreCase)
            || t.StartsWith("--- Enclosed", StringComparison.OrdinalIgnoreCase)
            || t.StartsWith("------ This is a copy", StringComparison.OrdinalIgnoreCase)
            || t.StartsWith("Original message headers", StringComparison.OrdinalIgnoreCase)
            || t.StartsWith("----- Original message", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>qmail and Postfix: <c>&lt;address&gt;:</c> (or <c>&lt;address&gt; (expanded from ...):</c>) starts a block.</summary>
    private void ReadAngleBlocks()
    {
        for (var i = 0; i < _lines.Count; i++)
        {
            var line = Line(i);
            if (IsCopyMarker(line))
            {
                return;
            }

            if (line.Length < 4 || line[0] != '<')
            {
                continue;
            }

            var close = line.IndexOf('>');
            if (close < 2)
            {
                continue;
            }

            var after = line[(close + 1)..];
            if (after.StartsWith(" (expanded from", StringComparison.Ordinal))
            {
                var end = after.IndexOf("):", StringComparison.Ordinal);
                after = end < 0 ? ReadOnlySpan<char>.Empty : after[(end + 1)..];
            }

            if (after.IsEmpty || after[0] != ':' || AddressOf(line[1..close]) is not { } address)
            {
                continue;
            }

            var reason = new StringBuilder();
            Append(reason, after[1..]);
            while (i + 1 < _lines.Count && !Blank(i + 1) && Line(i + 1)[0] != '<' && !IsCopyMarker(Line(i + 1)))
            {
                Append(reason, Line(++i));
            }

            var diagnostic = reason.Length == 0 ? null : reason.ToString();
            Add(address, diagnostic, HostIn(diagnostic));
        }
    }

    private void ReadExim()
    {
        var i = 0;
        while (i < _lines.Count)
        {
            var line = Line(i++);
            if (IsCopyMarker(line))
            {
                return;
            }

            if (!(line.Contains("address(es) failed", StringComparison.OrdinalIgnoreCase) || line.Contains("address(es) deferred", StringComparison.OrdinalIgnoreCase)
                || line.Contains("delivered to the following address", StringComparison.OrdinalIgnoreCase)
                || line.Contains("not yet been delivered", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            while (i < _lines.Count)
            {
                line = Line(i);
                if (IsCopyMarker(line))
                {
                    return;
                }

                var indent = Indent(line);
                if (line.IsWhiteSpace() || indent >= 4)
                {
                    i++;
                    continue;
                }

                if (indent == 0)
                {
                    break; // the list has ended
                }

                i++;
                var token = line.Trim();
                var colon = token.IndexOf(": ", StringComparison.Ordinal);
                var inlineReason = colon < 0 ? ReadOnlySpan<char>.Empty : token[(colon + 2)..];
                if (AddressOf(colon < 0 ? token.TrimEnd(':') : token[..colon]) is not { } address)
                {
                    continue;
                }

                var details = new StringBuilder();
                var afterError = new StringBuilder();
                var inError = false;
                string? host = null;
                Append(details, inlineReason);
                while (i < _lines.Count && Indent(Line(i)) >= 4 && !Blank(i))
                {
                    var detail = Line(i++).Trim();
                    if (detail.StartsWith("host ", StringComparison.OrdinalIgnoreCase))
                    {
                        host ??= HostIn(detail.ToString());
                    }

                    if (detail.Contains("SMTP error from remote", StringComparison.OrdinalIgnoreCase))
                    {
                        inError = true;
                        continue;
                    }

                    Append(inError ? afterError : details, detail);
                }

                var reason = afterError.Length > 0 ? afterError : details;
                Add(address, reason.Length == 0 ? null : reason.ToString(), host);
            }
        }
    }

    private void ReadExchange()
    {
        // The administrators' section: "address" then "Remote Server returned '...'".
        var administrators = false;
        for (var i = 0; i < _lines.Count; i++)
        {
            var line = Line(i).Trim();
            if (IsCopyMarker(line))
            {
                break;
            }

            administrators |= line.StartsWith("Diagnostic information for administrators", StringComparison.OrdinalIgnoreCase);
            if (!administrators || !line.StartsWith("Remote Server returned", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            string? address = null;
            for (var k = i - 1; k >= 0 && address is null; k--)
            {
                if (!Blank(k))
                {
                    address = AddressIn(Line(k));
                    break;
                }
            }

            if (address is not null)
            {
                var quoted = line["Remote Server returned".Length..].Trim();
                if (quoted.Length >= 2 && quoted[0] == '\'' && quoted[^1] == '\'')
                {
                    quoted = quoted[1..^1];
                }

                Add(address, quoted.IsEmpty ? null : quoted.ToString(), null);
            }
        }

        if (_found.Count > 0)
        {
            return;
        }

        // The list a person reads: address lines, the explanation under each.
        for (var i = 0; i < _lines.Count; i++)
        {
            var line = Line(i).Trim();
            if (IsCopyMarker(line) || line.StartsWith("Diagnostic information for administrators", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            const string YourMessageTo = "Your message to ";
            if (line.StartsWith(YourMessageTo, StringComparison.OrdinalIgnoreCase))
            {
                var end = line.IndexOf(" couldn't be delivered", StringComparison.OrdinalIgnoreCase);
                if (end > YourMessageTo.Length && AddressOf(line[YourMessageTo.Length..end]) is { } single)
                {
                    Add(single, NextParagraph(i + 1), null);
                }

                continue;
            }

            if (!line.StartsWith("Delivery has failed to these recipients", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            i++;
            while (i < _lines.Count)
            {
                if (Blank(i))
                {
                    i++;
                    continue;
                }

                var entry = Line(i).Trim();
                if (IsCopyMarker(entry) || entry.StartsWith("Diagnostic information", StringComparison.OrdinalIgnoreCase) || AddressIn(entry) is not { } address || (entry.Contains(' ') && entry[^1] is not (')' or '>')))
                {
                    return;
                }

                i++;
                var explanation = new StringBuilder();
                while (i < _lines.Count && !Blank(i))
                {
                    Append(explanation, Line(i++));
                }

                Add(address, explanation.Length == 0 ? null : explanation.ToString(), null);
            }
        }
    }

    private void ReadGmail()
    {
        string? diagnostic = null;
        for (var i = 0; i < _lines.Count && diagnostic is null; i++)
        {
            var line = Line(i).Trim();
            if (line.StartsWith("The response from the remote server was:", StringComparison.OrdinalIgnoreCase)
                || line.StartsWith("The error that the other server returned was:", StringComparison.OrdinalIgnoreCase)
                || line.StartsWith("The response was:", StringComparison.OrdinalIgnoreCase)
                || line.StartsWith("Technical details of", StringComparison.OrdinalIgnoreCase))
            {
                diagnostic = NextParagraph(i + 1);
            }
        }

        for (var i = 0; i < _lines.Count; i++)
        {
            var line = Line(i).Trim();
            if (IsCopyMarker(line))
            {
                return;
            }

            foreach (var lead in (ReadOnlySpan<string>)["wasn't delivered to ", "temporary problem delivering your message to "])
            {
                var at = line.IndexOf(lead, StringComparison.OrdinalIgnoreCase);
                if (at >= 0)
                {
                    var rest = line[(at + lead.Length)..];
                    var end = rest.IndexOfAny(' ', ',');
                    if (AddressOf((end < 0 ? rest : rest[..end]).TrimEnd('.')) is { } address)
                    {
                        Add(address, diagnostic, null);
                    }
                }
            }

            if (line.StartsWith("Delivery to the following recipient", StringComparison.OrdinalIgnoreCase))
            {
                var k = i + 1;
                while (k < _lines.Count && Blank(k))
                {
                    k++;
                }

                while (k < _lines.Count && !Blank(k) && AddressOf(Line(k).Trim()) is { } address)
                {
                    Add(address, diagnostic, null);
                    k++;
                }

                i = k - 1;
            }
        }
    }

    /// <summary>The lines after <paramref name="from"/> (blank lines first skipped) up to the next blank line, on one line.</summary>
    private string? NextParagraph(int from)
    {
        while (from < _lines.Count && Blank(from))
        {
            from++;
        }

        var text = new StringBuilder();
        while (from < _lines.Count && !Blank(from) && !IsCopyMarker(Line(from)))
        {
            Append(text, Line(from++));
        }

        return text.Length == 0 ? null : text.ToString();
    }

    private void Add(string address, string? diagnostic, string? host)
    {
        for (var i = 0; i < _found.Count; i++)
        {
            if (string.Equals(_found[i].Address, address, StringComparison.OrdinalIgnoreCase))
            {
                if (_found[i].Diagnostic is null && diagnostic is not null)
                {
                    _found[i] = (_found[i].Address, diagnostic, _found[i].RemoteMta ?? host);
                }

                return;
            }
        }

        _found.Add((address, diagnostic, host));
    }

    private static int Indent(ReadOnlySpan<char> line)
    {
        var n = 0;
        while (n < line.Length && (line[n] == ' ' || line[n] == '\t'))
        {
            n += line[n] == '\t' ? 8 : 1;
        }

        return n;
    }

    /// <summary>Appends a line's words, separated from what is there by one space.</summary>
    private static void Append(StringBuilder text, ReadOnlySpan<char> line)
    {
        line = line.Trim();
        if (line.IsEmpty || text.Length > MaxReason)
        {
            return; // a reason is a few lines; what is longer is cut
        }

        if (text.Length > 0)
        {
            text.Append(' ');
        }

        text.Append(line);
    }

    /// <summary>The host in "host mx.example.org[192.0.2.1] said:" or "host mx.example.org [192.0.2.1]", or null.</summary>
    private static string? HostIn(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var at = text.StartsWith("host ", StringComparison.OrdinalIgnoreCase) ? 0 : text.IndexOf(" host ", StringComparison.OrdinalIgnoreCase) + 1;
        if (at < 0 || (at == 0 && !text.StartsWith("host ", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var rest = text.AsSpan(at + 5);
        var end = rest.IndexOfAny(' ', '[');
        var host = end < 0 ? rest : rest[..end];
        return host.IndexOf('.') > 0 && host.IndexOfAny('@', '<', ':') < 0 ? host.ToString() : null;
    }

    /// <summary>The one token of a line that is an address (with or without angle brackets or mailto:), or null.</summary>
    private static string? AddressIn(ReadOnlySpan<char> line)
    {
        var at = line.IndexOf('@');
        if (at <= 0)
        {
            return null;
        }

        var start = at;
        while (start > 0 && line[start - 1] is not (' ' or '<' or '(' or '[' or '"' or ':' or '\t'))
        {
            start--;
        }

        var end = at;
        while (end < line.Length && line[end] is not (' ' or '>' or ')' or ']' or '"' or '\t' or ','))
        {
            end++;
        }

        return AddressOf(line[start..end]);
    }

    /// <summary>An address: <c>local@domain</c> without spaces or brackets, at most 320 characters; angle brackets and a final dot around it are dropped.</summary>
    private static string? AddressOf(ReadOnlySpan<char> token)
    {
        token = token.Trim();
        if (token.Length >= 2 && token[0] == '<' && token[^1] == '>')
        {
            token = token[1..^1];
        }

        if (token.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            token = token[7..];
        }

        token = token.TrimEnd('.');
        var at = token.LastIndexOf('@');
        if (at <= 0 || at == token.Length - 1 || token.Length > 320 || token.IndexOfAny(" \t<>()[],;:") >= 0 || token[(at + 1)..].IndexOf('.') <= 0)
        {
            return null;
        }

        return token.ToString();
    }
}
