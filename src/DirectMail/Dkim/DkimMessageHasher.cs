using System;
using System.Buffers;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;

namespace DirectMail.Dkim;

/// <summary>
/// Pass 1 of signing: the stream a content is written into to be hashed. Line ends are made CRLF exactly as the SMTP
/// session's encoder makes them (CRLF stays, a bare CR or LF becomes CRLF, an unterminated last line is ended); the
/// header section is split into fields, of which only those that may be signed are kept (in a pooled buffer); at the
/// empty line the signers are chosen and the body streams through one canonicalising hasher per canonicalisation.
/// Nothing else of the message is kept. Optionally tees the raw octets into a spool for a content that cannot be
/// written twice.
/// </summary>
internal sealed class DkimMessageHasher : IO.WriteOnlyStream
{
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';

    private readonly DkimSignerSet _set;
    private readonly string? _envelopeDomain;
    private readonly DkimSpool? _spool;
    private byte[] _fields;
    private int _length;
    private Field[] _kept;
    private int _keptCount;
    private int _open = -1;
    private bool _pendingCR;
    private bool _atLineStart = true;
    private bool _inBody;
    private DkimBodyHasher? _relaxed;
    private DkimBodyHasher? _simple;

    public DkimMessageHasher(DkimSignerSet set, string? envelopeDomain, DkimSpool? spool)
    {
        _set = set;
        _envelopeDomain = envelopeDomain;
        _spool = spool;
        _fields = ArrayPool<byte>.Shared.Rent(2048);
        _kept = ArrayPool<Field>.Shared.Rent(32);
    }

    /// <summary>The signers chosen at the end of the header section; empty when none applies.</summary>
    public DkimSigner[] Signers { get; private set; } = [];

    /// <summary>The domain of the From field, A-label, lower case; empty when there is none.</summary>
    public string FromDomain { get; private set; } = string.Empty;

    public int FieldCount => _keptCount;

    /// <summary>The i-th kept header field, from its name to the end of its value, without the final CRLF.</summary>
    public ReadOnlySpan<byte> GetField(int index) => _fields.AsSpan(_kept[index].Start, _kept[index].Length);

    /// <summary>The name of the i-th kept header field, without white space before the colon.</summary>
    public ReadOnlySpan<byte> GetFieldName(int index) => _fields.AsSpan(_kept[index].Start, _kept[index].NameLength);

    /// <summary>The body hash for one canonicalisation, after <see cref="Complete"/>.</summary>
    public void GetBodyHash(DkimCanonicalization canonicalization, Span<byte> destination)
    {
        var hasher = canonicalization == DkimCanonicalization.Relaxed ? _relaxed : _simple;
        if (hasher is null)
        {
            throw new InvalidOperationException("No body hash was computed for " + canonicalization + ".");
        }

        hasher.Complete(destination);
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        _spool?.Write(data);
        Hash(data);
    }

    private void Hash(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_pendingCR)
            {
                _pendingCR = false;
                LineEnd();
                if (data[0] == LF)
                {
                    data = data[1..];
                    continue;
                }
            }

            var i = data.IndexOfAny(CR, LF);
            if (i < 0)
            {
                Content(data);
                return;
            }

            if (i > 0)
            {
                Content(data[..i]);
            }

            if (data[i] == LF)
            {
                LineEnd();
                data = data[(i + 1)..];
            }
            else if (i + 1 < data.Length)
            {
                LineEnd();
                data = data[(data[i + 1] == LF ? i + 2 : i + 1)..];
            }
            else
            {
                _pendingCR = true;
                return;
            }
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_spool is not null)
        {
            return WriteSpooledAsync(buffer, cancellationToken);
        }

        Hash(buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Ends the message as the encoder ends it: a pending CR or an unterminated last line gets its CRLF.</summary>
    public void Complete()
    {
        if (_pendingCR)
        {
            _pendingCR = false;
            LineEnd();
        }

        if (!_atLineStart)
        {
            LineEnd();
        }

        if (!_inBody)
        {
            EndHeader(); // no empty line: all header, empty body
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _relaxed?.Dispose();
            _simple?.Dispose();
            if (_fields.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_fields);
                ArrayPool<Field>.Shared.Return(_kept);
                _fields = [];
                _kept = [];
            }
        }

        base.Dispose(disposing);
    }

    private async ValueTask WriteSpooledAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await _spool!.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Hash(buffer.Span);
    }

    private void Content(ReadOnlySpan<byte> run)
    {
        if (_inBody)
        {
            _atLineStart = false;
            _relaxed?.Content(run);
            _simple?.Content(run);
            return;
        }

        if (_atLineStart)
        {
            _atLineStart = false;
            if (run[0] is (byte)' ' or (byte)'\t' && _open >= 0)
            {
                Append("\r\n"u8); // a continuation line: the field goes on
            }
            else
            {
                CloseField();
                _open = _length;
            }
        }

        Append(run);
    }

    private void LineEnd()
    {
        if (_inBody)
        {
            _atLineStart = true;
            _relaxed?.LineEnd();
            _simple?.LineEnd();
            return;
        }

        if (_atLineStart)
        {
            EndHeader(); // the empty line
            return;
        }

        _atLineStart = true;
    }

    private void EndHeader()
    {
        CloseField();
        _inBody = true;
        _atLineStart = true;
        Signers = _set.Choose(this, _envelopeDomain, out var from);
        FromDomain = from;
        foreach (var signer in Signers)
        {
            if (signer.BodyCanonicalization == DkimCanonicalization.Relaxed)
            {
                _relaxed ??= new DkimBodyHasher(DkimCanonicalization.Relaxed);
            }
            else
            {
                _simple ??= new DkimBodyHasher(DkimCanonicalization.Simple);
            }
        }
    }

    private void CloseField()
    {
        if (_open < 0)
        {
            return;
        }

        var field = _fields.AsSpan(_open, _length - _open);
        var colon = field.IndexOf((byte)':');
        var name = colon < 0 ? default : field[..colon].TrimEnd(" \t"u8);
        if (!name.IsEmpty && _set.IsSigned(name))
        {
            if (_keptCount == _kept.Length)
            {
                var bigger = ArrayPool<Field>.Shared.Rent(_kept.Length * 2);
                _kept.AsSpan(0, _keptCount).CopyTo(bigger);
                ArrayPool<Field>.Shared.Return(_kept);
                _kept = bigger;
            }

            _kept[_keptCount++] = new Field(_open, field.Length, name.Length);
        }
        else
        {
            _length = _open; // not signed: forgotten
        }

        _open = -1;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _fields.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_fields.Length * 2, _length + data.Length));
            _fields.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_fields);
            _fields = bigger;
        }

        data.CopyTo(_fields.AsSpan(_length));
        _length += data.Length;
    }

    private readonly record struct Field(int Start, int Length, int NameLength);
}
