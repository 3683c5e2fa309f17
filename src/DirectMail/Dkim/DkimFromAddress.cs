using System;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Dkim;

/// <summary>What the From header section of a message says, for choosing its DKIM keys.</summary>
internal enum DkimFromKind
{
    /// <summary>No From field.</summary>
    None,

    /// <summary>One From field holding exactly one mailbox, whose domain is known.</summary>
    Mailbox,

    /// <summary>
    /// Anything else: two From fields, two mailboxes, a group, an address literal, or text that is not RFC 5322
    /// syntax. Receivers disagree on which domain such a From names (DMARC, RFC 7489 section 6.6.1, lets them
    /// reject it), so no key is chosen for it.
    /// </summary>
    NotOneMailbox,
}

/// <summary>
/// Reads the domain of a From field's single mailbox as receivers do (RFC 5322 section 3.4, with RFC 6532 UTF-8):
/// comments and folding white space are skipped, quoted strings and display names are words, the address is the
/// one in angle brackets or the addr-spec itself. <c>a@tenant.test (&lt;ceo@victim.test&gt;)</c> is tenant.test
/// (the rest is a comment); <c>"ceo@victim.test" &lt;a@tenant.test&gt;</c> is tenant.test (a quoted display name);
/// a mailbox list, a group or an unparsable value is <see cref="DkimFromKind.NotOneMailbox"/>.
/// </summary>
internal static class DkimFromAddress
{
    /// <summary>The kind of <paramref name="value"/> (the field's value after the colon) and the mailbox's domain, A-label, lower case.</summary>
    public static DkimFromKind Parse(ReadOnlySpan<byte> value, out string domain)
    {
        domain = string.Empty;
        var lexer = new Lexer(value);
        var token = lexer.Next();

        // A mailbox: display-name "<" addr-spec ">", or addr-spec. Both start with words; which one it is shows at
        // the first token that is neither a word nor a dot ("." is allowed in a display name: obs-phrase).
        var words = 0;
        var start = lexer;
        var startToken = token;
        while (token.Kind is Kind.Atom or Kind.Quoted || token.Is('.'))
        {
            words++;
            token = lexer.Next();
        }

        Span<byte> buffer = stackalloc byte[256];
        int length;
        if (token.Is('<'))
        {
            if (words > 0 && startToken.Is('.'))
            {
                return DkimFromKind.NotOneMailbox;
            }

            if (!AddrSpec(ref lexer, lexer.Next(), buffer, out length, out token) || !token.Is('>'))
            {
                return DkimFromKind.NotOneMailbox;
            }

            token = lexer.Next();
        }
        else
        {
            lexer = start;
            if (!AddrSpec(ref lexer, startToken, buffer, out length, out token))
            {
                return DkimFromKind.NotOneMailbox;
            }
        }

        if (token.Kind != Kind.End)
        {
            return DkimFromKind.NotOneMailbox; // a second mailbox (","), a group (":" ... ";"), or stray text
        }

        try
        {
            var text = Encoding.UTF8.GetString(buffer[..length]);
            domain = DomainName.Normalize(text);
        }
        catch (ArgumentException)
        {
            return DkimFromKind.NotOneMailbox;
        }

        return DkimFromKind.Mailbox;
    }

    /// <summary>local-part "@" domain, the domain dot-atom copied into <paramref name="domain"/>; <paramref name="next"/> is the token after it.</summary>
    private static bool AddrSpec(scoped ref Lexer lexer, Token token, scoped Span<byte> domain, out int length, out Token next)
    {
        length = 0;
        next = token;

        // local-part: word *("." word) (dot-atom, quoted-string, obs-local-part).
        while (true)
        {
            if (token.Kind is not (Kind.Atom or Kind.Quoted))
            {
                return false;
            }

            token = lexer.Next();
            if (!token.Is('.'))
            {
                break;
            }

            token = lexer.Next();
        }

        if (!token.Is('@'))
        {
            return false;
        }

        // domain: atom *("." atom); a domain literal names no domain to sign for.
        token = lexer.Next();
        while (true)
        {
            if (token.Kind != Kind.Atom || length + token.Text.Length + 1 > domain.Length)
            {
                return false;
            }

            token.Text.CopyTo(domain[length..]);
            length += token.Text.Length;
            token = lexer.Next();
            if (!token.Is('.'))
            {
                break;
            }

            domain[length++] = (byte)'.';
            token = lexer.Next();
        }

        next = token;
        return true;
    }

    private enum Kind
    {
        End,
        Atom,
        Quoted,
        DomainLiteral,
        Special,
        Error,
    }

    private readonly ref struct Token(Kind kind, ReadOnlySpan<byte> text)
    {
        public Kind Kind { get; } = kind;

        public ReadOnlySpan<byte> Text { get; } = text;

        public bool Is(char special) => Kind == Kind.Special && Text[0] == special;
    }

    /// <summary>The lexical tokens of RFC 5322 section 3.2, CFWS skipped.</summary>
    private ref struct Lexer(ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> _text = text;
        private int _position;

        public Token Next()
        {
            if (!SkipCfws())
            {
                return new Token(Kind.Error, default);
            }

            if (_position == _text.Length)
            {
                return new Token(Kind.End, default);
            }

            var start = _position;
            var c = _text[_position];
            switch (c)
            {
                case (byte)'"':
                    return Delimited((byte)'"', Kind.Quoted);
                case (byte)'[':
                    return Delimited((byte)']', Kind.DomainLiteral);
                case (byte)'<' or (byte)'>' or (byte)'@' or (byte)',' or (byte)';' or (byte)':' or (byte)'.' or (byte)']' or (byte)')':
                    _position++;
                    return new Token(Kind.Special, _text.Slice(start, 1));
            }

            while (_position < _text.Length && IsAtext(_text[_position]))
            {
                _position++;
            }

            return _position > start ? new Token(Kind.Atom, _text[start.._position]) : new Token(Kind.Error, default);
        }

        private static bool IsAtext(byte c) =>
            c >= 0x80 || char.IsAsciiLetterOrDigit((char)c) || "!#$%&'*+-/=?^_`{|}~"u8.Contains(c);

        /// <summary>A quoted string or domain literal, with quoted pairs; its text is what is between the delimiters.</summary>
        private Token Delimited(byte close, Kind kind)
        {
            var start = ++_position;
            while (_position < _text.Length)
            {
                var c = _text[_position];
                if (c == close)
                {
                    _position++;
                    return new Token(kind, _text[start..(_position - 1)]);
                }

                if (c == '\\')
                {
                    _position++;
                }
                else if (c == '\0')
                {
                    break;
                }

                _position++;
            }

            return new Token(Kind.Error, default);
        }

        /// <summary>Skips white space, folding and (nested) comments; false for a comment that does not end.</summary>
        private bool SkipCfws()
        {
            var depth = 0;
            while (_position < _text.Length)
            {
                var c = _text[_position];
                if (c == '(')
                {
                    depth++;
                }
                else if (c == ')' && depth > 0)
                {
                    depth--;
                }
                else if (c == '\\' && depth > 0)
                {
                    _position++;
                }
                else if (depth == 0 && c is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    return true;
                }

                _position++;
            }

            return depth == 0;
        }
    }
}
