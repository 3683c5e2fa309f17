using System;
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Dkim;

/// <summary>
/// Signs messages with DKIM (RFC 6376) for one domain, selector and key: <c>rsa-sha256</c>, or another
/// <see cref="DkimSigningAlgorithm"/> (<c>ed25519-sha256</c>, RFC 8463, from DirectMail.Dkim.Ed25519). <see cref="Sign"/> wraps an
/// <see cref="SmtpContent"/> so that every time it is written (once per transaction, for each server, because the
/// content may differ with the server's capabilities: 8bit or quoted-printable) it is first written through a
/// canonicalising hasher (pass 1: body hash and the signed header fields only, nothing else kept), then the
/// <c>DKIM-Signature</c> field is written, followed by the content again (pass 2). A content that cannot be written
/// twice (its length is unknown, as for a forward-only stream) is spooled during pass 1: in memory up to 64 KiB, in a
/// temporary file above. The signature covers the octets as they go on the wire: line ends made CRLF the way the
/// session makes them, before dot-stuffing. Thread-safe; dispose it to release the key.
/// </summary>
/// <remarks>
/// The core reads RSA keys itself (.NET's class library has no Ed25519); <c>ed25519-sha256</c> comes with the package
/// DirectMail.Dkim.Ed25519. Several keys of one domain (an RSA and an Ed25519 key) sign in the same pass through the
/// mailer's keyring (<see cref="Delivery.DirectMailOptions.Dkim"/>), sharing the body hash. No <c>l=</c> body length is
/// ever written (it lets anyone append content).
/// </remarks>
public sealed class DkimSigner : IDisposable
{
    private const int MaxLineLength = 78;
    private static readonly byte[] FromName = "from"u8.ToArray();

    private readonly DkimSigningKey _key;
    private readonly TimeProvider _time;
    private readonly byte[][] _headerNames;
    private readonly bool[] _overSigned;
    private readonly int _namesCapacity;
    private readonly byte[] _aTag;
    private readonly byte[] _cTag;
    private readonly byte[] _dTag;
    private readonly byte[] _sTag;
    private readonly bool _timestamp;
    private readonly long? _lifetimeSeconds;
    private readonly int _signatureLength;
    private readonly int _base64SignatureLength;
    private readonly DkimSignerSet _single;

    /// <summary>Creates a signer; the private key is read and checked now.</summary>
    /// <param name="options">The domain, selector, key and settings.</param>
    /// <param name="timeProvider">The clock for <c>t=</c> and <c>x=</c>; null for the system's.</param>
    /// <exception cref="DkimKeyException">The key cannot be read, is not a private key of <see cref="DkimSignerOptions.Algorithm"/>'s kind (RSA by default), or is of a size DKIM does not allow.</exception>
    /// <exception cref="ArgumentException">Another option is wrong.</exception>
    public DkimSigner(DkimSignerOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ValidateFields();
        Domain = NormalizeDomain(options.Domain);
        Selector = options.Selector.ToLowerInvariant();
        HeaderCanonicalization = options.HeaderCanonicalization;
        BodyCanonicalization = options.BodyCanonicalization;
        _time = timeProvider ?? TimeProvider.System;
        _timestamp = options.IncludeTimestamp || options.SignatureLifetime is not null;
        _lifetimeSeconds = options.SignatureLifetime is { } lifetime ? Math.Max(1, (long)Math.Ceiling(lifetime.TotalSeconds)) : null;
        Algorithm = options.ResolveAlgorithm();
        _key = ImportKey(Algorithm, options.LoadPem(), Domain);
        KeySize = _key.KeySize;
        _signatureLength = _key.SignatureLength;
        _base64SignatureLength = (_signatureLength + 2) / 3 * 4;

        // The names to sign, lower case, each once, From first when it was not listed.
        var names = new List<byte[]>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (!ContainsFrom(options.Headers))
        {
            names.Add(FromName);
            seen.Add("from");
        }

        foreach (var name in options.Headers.Count == 0 ? DkimSignerOptions.DefaultHeaders : options.Headers)
        {
            if (seen.Add(name))
            {
                names.Add(Encoding.ASCII.GetBytes(name.ToLowerInvariant()));
            }
        }

        _headerNames = names.ToArray();
        _overSigned = new bool[_headerNames.Length];
        for (var n = 0; n < _headerNames.Length; n++)
        {
            _overSigned[n] = IsAtMostOnce(_headerNames[n]);
            _namesCapacity += _headerNames[n].Length + 4; // one more h= entry of each name, with its folding
        }

        _aTag = Encoding.ASCII.GetBytes("a=" + Algorithm.Name + ";");
        _cTag = Encoding.ASCII.GetBytes("c=" + Name(HeaderCanonicalization) + "/" + Name(BodyCanonicalization) + ";");
        _dTag = Encoding.ASCII.GetBytes("d=" + Domain + ";");
        _sTag = Encoding.ASCII.GetBytes("s=" + Selector + ";");
        MaxHeaderLength = ComputeMaxHeaderLength();
        _single = new FixedSignerSet(this);
    }

    /// <summary>The signing domain (<c>d=</c>), in A-label form and lower case.</summary>
    public string Domain { get; }

    /// <summary>The selector (<c>s=</c>), lower case.</summary>
    public string Selector { get; }

    /// <summary>The signing algorithm (<c>a=</c>).</summary>
    public DkimSigningAlgorithm Algorithm { get; }

    /// <summary>The key's size in bits (RSA: 1024 to 4096; Ed25519: 256).</summary>
    public int KeySize { get; }

    /// <summary>How the header is canonicalised.</summary>
    public DkimCanonicalization HeaderCanonicalization { get; }

    /// <summary>How the body is canonicalised.</summary>
    public DkimCanonicalization BodyCanonicalization { get; }

    /// <summary>The lower-case names of the header fields signed when present, From first.</summary>
    internal byte[][] HeaderNames => _headerNames;

    /// <summary>
    /// The header fields that RFC 5322 section 3.6 (and RFC 2045, RFC 2919, RFC 8058 for the MIME and list fields) allow
    /// at most once: signed once more than they occur (absent ones once), so that a field added in front of a signed
    /// message, a second Subject or a Reply-To where there was none, breaks the signature (RFC 6376 section 8.15).
    /// </summary>
    internal static readonly string[] AtMostOnce =
    [
        "from", "sender", "reply-to", "to", "cc", "bcc", "subject", "date", "message-id", "in-reply-to", "references",
        "mime-version", "content-type", "content-transfer-encoding", "content-disposition", "content-id", "content-description",
        "list-id", "list-unsubscribe", "list-unsubscribe-post",
    ];

    /// <summary>The most octets the DKIM-Signature field takes when every signed field occurs at most twice (for SIZE).</summary>
    internal int MaxHeaderLength { get; }

    /// <summary>Creates a signer from PEM text, with the default settings (relaxed/relaxed, default headers, <c>t=</c>, no expiry).</summary>
    /// <param name="domain">The signing domain (<c>d=</c>).</param>
    /// <param name="selector">The selector (<c>s=</c>).</param>
    /// <param name="privateKeyPem">The RSA private key, PKCS#1 or PKCS#8 PEM.</param>
    /// <returns>The signer.</returns>
    public static DkimSigner FromPem(string domain, string selector, string privateKeyPem)
        => new(new DkimSignerOptions { Domain = domain, Selector = selector, PrivateKey = privateKeyPem });

    /// <summary>
    /// Wraps <paramref name="content"/> so that it is sent with a DKIM-Signature field, computed for every write over
    /// the octets written for that server. The wrapper holds no part of the message.
    /// </summary>
    /// <param name="content">The message; it must write the same octets when written twice for the same server (every DirectMail content does), or have an unknown length (it is then spooled).</param>
    /// <returns>The signed content.</returns>
    public SmtpContent Sign(SmtpContent content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new DkimSignedContent(content, _single, null, null);
    }

    /// <summary>Releases the key.</summary>
    public void Dispose() => _key.Dispose();

    /// <summary>The signer set of this signer alone (for a hasher made outside <see cref="Sign"/>).</summary>
    internal DkimSignerSet Single => _single;

    internal static string NormalizeDomain(string domain)
    {
        try
        {
            return DomainName.Normalize(domain.Trim());
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"DirectMail:Dkim: '{domain}' is not a domain name: {e.Message}", nameof(domain), e);
        }
    }

    /// <summary>The octets needed by <see cref="WriteHeader"/> for this message, at most.</summary>
    internal int HeaderCapacity(DkimMessageHasher message)
    {
        var names = 0;
        for (var i = 0; i < message.FieldCount; i++)
        {
            names += message.GetFieldName(i).Length + 4;
        }

        return 512 + (2 * (_dTag.Length + _sTag.Length + names)) + _namesCapacity + (2 * _base64SignatureLength);
    }

    /// <summary>
    /// Writes this signer's DKIM-Signature field, CRLF-terminated and folded at 78 octets, for the message hashed by
    /// <paramref name="message"/>, and returns its length.
    /// </summary>
    internal int WriteHeader(DkimMessageHasher message, ReadOnlySpan<byte> bodyHash, Span<byte> destination)
    {
        // How often each signed name occurs; the fields allowed at most once, once more.
        Span<int> counts = _headerNames.Length <= 64 ? stackalloc int[_headerNames.Length] : new int[_headerNames.Length];
        counts.Clear();
        for (var i = 0; i < message.FieldCount; i++)
        {
            var name = message.GetFieldName(i);
            for (var n = 0; n < _headerNames.Length; n++)
            {
                if (Ascii.EqualsIgnoreCase(name, _headerNames[n]))
                {
                    counts[n]++;
                    break;
                }
            }
        }

        for (var n = 0; n < counts.Length; n++)
        {
            if (_overSigned[n])
            {
                counts[n]++;
            }
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var folder = new Folder(destination);
        WritePrefix(ref folder, counts, bodyHash, now);
        var prefixLength = folder.Position;

        Span<byte> hash = stackalloc byte[32];
        HashHeader(message, destination[..prefixLength], hash);
        Span<byte> signature = _signatureLength <= 1024 ? stackalloc byte[_signatureLength] : new byte[_signatureLength];
        var written = _key.SignHash(hash, signature);

        Span<byte> base64 = stackalloc byte[_base64SignatureLength];
        Base64.EncodeToUtf8(signature[..written], base64, out _, out var encoded);
        folder.Fill(base64[..encoded]);
        folder.Raw("\r\n"u8);
        return folder.Position;
    }

    /// <summary>
    /// The header hash: the signed fields in h= order, each name's occurrences from the bottom up, then the signature's
    /// own field with an empty b= and no final CRLF (RFC 6376 section 3.7), canonicalised and hashed with SHA-256.
    /// </summary>
    internal void HashHeader(DkimMessageHasher message, ReadOnlySpan<byte> signatureField, Span<byte> hash)
    {
        // The canonical header data is gathered into one buffer and hashed in one call: a few hundred octets to a few
        // KB, where an incremental hash would cross into the platform's crypto twice per field.
        var capacity = signatureField.Length;
        for (var i = 0; i < message.FieldCount; i++)
        {
            capacity += message.GetField(i).Length + 2;
        }

        byte[]? rented = null;
        var data = capacity <= 2048 ? stackalloc byte[2048] : (rented = ArrayPool<byte>.Shared.Rent(capacity));
        var relaxed = HeaderCanonicalization == DkimCanonicalization.Relaxed;
        var length = 0;
        for (var n = 0; n < _headerNames.Length; n++)
        {
            for (var i = message.FieldCount - 1; i >= 0; i--)
            {
                if (Ascii.EqualsIgnoreCase(message.GetFieldName(i), _headerNames[n]))
                {
                    length += DkimHeaderCanonicalizer.Append(data[length..], message.GetField(i), relaxed, lineEnd: true);
                }
            }
        }

        length += DkimHeaderCanonicalizer.Append(data[length..], signatureField, relaxed, lineEnd: false);
        SHA256.HashData(data[..length], hash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static DkimSigningKey ImportKey(DkimSigningAlgorithm algorithm, string pem, string domain)
    {
        try
        {
            return algorithm.ImportPrivateKey(pem);
        }
        catch (DkimKeyException e)
        {
            throw new DkimKeyException($"DirectMail:Dkim entry for '{domain}': {e.Reason}", e.Problem, e.InnerException ?? e);
        }
    }

    private static string Name(DkimCanonicalization c) => c == DkimCanonicalization.Relaxed ? "relaxed" : "simple";

    private static bool ContainsFrom(List<string> headers)
    {
        foreach (var h in headers)
        {
            if (string.Equals(h, "From", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsAtMostOnce(byte[] name)
    {
        foreach (var once in AtMostOnce)
        {
            if (Ascii.Equals(name, once))
            {
                return true;
            }
        }

        return false;
    }

    private void WritePrefix(ref Folder folder, scoped ReadOnlySpan<int> counts, scoped ReadOnlySpan<byte> bodyHash, long now)
    {
        folder.Raw("DKIM-Signature:"u8);
        folder.Token("v=1;"u8, space: true);
        folder.Token(_aTag, space: true);
        folder.Token(_cTag, space: true);
        folder.Token(_dTag, space: true);
        folder.Token(_sTag, space: true);
        Span<byte> number = stackalloc byte[24];
        if (_timestamp)
        {
            folder.Token(Tag(number, "t="u8, now), space: true);
            if (_lifetimeSeconds is { } lifetime)
            {
                folder.Token(Tag(number, "x="u8, now + lifetime), space: true);
            }
        }

        var total = 0;
        foreach (var c in counts)
        {
            total += c;
        }

        Span<byte> piece = stackalloc byte[128];
        var index = 0;
        for (var n = 0; n < _headerNames.Length; n++)
        {
            for (var k = 0; k < counts[n]; k++)
            {
                var length = 0;
                if (index == 0)
                {
                    "h="u8.CopyTo(piece);
                    length = 2;
                }

                var name = _headerNames[n];
                if (name.Length + length + 1 <= piece.Length)
                {
                    name.CopyTo(piece[length..]);
                    length += name.Length;
                    piece[length++] = ++index == total ? (byte)';' : (byte)':';
                    folder.Token(piece[..length], space: index == 1);
                }
                else
                {
                    // A very long name: written in parts, folding only after it.
                    folder.Token(piece[..length], space: index == 0);
                    folder.Raw(name);
                    folder.Raw(++index == total ? ";"u8 : ":"u8);
                }
            }
        }

        Span<byte> bh = stackalloc byte[3 + 44 + 1];
        "bh="u8.CopyTo(bh);
        Base64.EncodeToUtf8(bodyHash, bh[3..], out _, out var encoded);
        bh[3 + encoded] = (byte)';';
        folder.Token(bh[..(4 + encoded)], space: true);
        folder.Token("b="u8, space: true);
    }

    private static ReadOnlySpan<byte> Tag(Span<byte> buffer, ReadOnlySpan<byte> name, long value)
    {
        name.CopyTo(buffer);
        value.TryFormat(buffer[name.Length..], out var written, default, CultureInfo.InvariantCulture);
        buffer[name.Length + written] = (byte)';';
        return buffer[..(name.Length + written + 1)];
    }

    private int ComputeMaxHeaderLength()
    {
        Span<int> counts = stackalloc int[_headerNames.Length];
        for (var n = 0; n < counts.Length; n++)
        {
            counts[n] = _overSigned[n] ? 3 : 2;
        }

        var names = 0;
        foreach (var name in _headerNames)
        {
            names += 3 * (name.Length + 4);
        }

        var buffer = new byte[1024 + names + (2 * (_dTag.Length + _sTag.Length + _base64SignatureLength))];
        var folder = new Folder(buffer);
        WritePrefix(ref folder, counts, new byte[32], 99_999_999_999);
        var signature = new byte[_base64SignatureLength];
        signature.AsSpan().Fill((byte)'A');
        folder.Fill(signature);
        folder.Raw("\r\n"u8);
        return folder.Position;
    }

    /// <summary>Writes a header field folded before tokens so that no line passes 78 octets (unless one token is longer).</summary>
    private ref struct Folder
    {
        private readonly Span<byte> _buffer;
        private int _column;

        public Folder(Span<byte> buffer)
        {
            _buffer = buffer;
            Position = 0;
            _column = 0;
        }

        public int Position { get; private set; }

        public void Raw(scoped ReadOnlySpan<byte> text)
        {
            text.CopyTo(_buffer[Position..]);
            Position += text.Length;
            _column += text.Length;
        }

        public void Token(scoped ReadOnlySpan<byte> token, bool space)
        {
            if (_column + (space ? 1 : 0) + token.Length > MaxLineLength)
            {
                Break();
            }
            else if (space)
            {
                Raw(" "u8);
            }

            Raw(token);
        }

        /// <summary>Writes a value that may be folded anywhere (base64), filling each line to 78 octets.</summary>
        public void Fill(scoped ReadOnlySpan<byte> value)
        {
            while (!value.IsEmpty)
            {
                var room = MaxLineLength - _column;
                if (room <= 0)
                {
                    Break();
                    continue;
                }

                var n = Math.Min(room, value.Length);
                Raw(value[..n]);
                value = value[n..];
            }
        }

        private void Break()
        {
            "\r\n\t"u8.CopyTo(_buffer[Position..]);
            Position += 3;
            _column = 1;
        }
    }

    /// <summary>One signer, always.</summary>
    private sealed class FixedSignerSet(DkimSigner signer) : DkimSignerSet([signer])
    {
        private readonly DkimSigner[] _signers = [signer];

        public override int MaxHeaderLength => signer.MaxHeaderLength;

        public override DkimSigner[] Choose(DkimMessageHasher message, string? envelopeDomain, out string fromDomain)
        {
            fromDomain = string.Empty;
            return _signers;
        }
    }
}
