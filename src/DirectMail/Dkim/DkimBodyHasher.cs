using System;
using System.Buffers;
using System.Security.Cryptography;

namespace DirectMail.Dkim;

/// <summary>
/// Canonicalises a body (RFC 6376 section 3.4.3 simple, 3.4.4 relaxed) as it streams, line content and line ends
/// given separately, and hashes it with SHA-256. Output is staged in a pooled buffer so that the hash is fed in large
/// blocks; trailing empty lines are only counted, and emitted when content follows them.
/// </summary>
internal sealed class DkimBodyHasher : IDisposable
{
    private const int StagingSize = 16 * 1024;

    private readonly bool _relaxed;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _staging = ArrayPool<byte>.Shared.Rent(StagingSize);
    private int _staged;
    private long _pendingLineEnds;
    private bool _pendingSpace;
    private bool _any;

    public DkimBodyHasher(DkimCanonicalization canonicalization) => _relaxed = canonicalization == DkimCanonicalization.Relaxed;

    public bool IsRelaxed => _relaxed;

    /// <summary>Octets of one line, without its line end; a line may come in several parts.</summary>
    public void Content(ReadOnlySpan<byte> run)
    {
        if (!_relaxed)
        {
            // (Simple canonicalisation keeps every body's last CRLF: it does not need to know whether there was content.)
            FlushLineEnds();
            Emit(run);
            return;
        }

        while (!run.IsEmpty)
        {
            if (run[0] is (byte)' ' or (byte)'\t')
            {
                _pendingSpace = true;
                var next = run.IndexOfAnyExcept((byte)' ', (byte)'\t');
                if (next < 0)
                {
                    return;
                }

                run = run[next..];
            }

            // run[0] is not white space: copy up to the first white space that must be rewritten or held back.
            var end = RegularPrefix(run);
            FlushLineEnds();
            if (_pendingSpace)
            {
                EmitByte((byte)' ');
                _pendingSpace = false;
            }

            Emit(run[..end]);
            _any = true;
            run = run[end..];
        }
    }

    /// <summary>A line end (CRLF on the wire).</summary>
    public void LineEnd()
    {
        _pendingLineEnds++;
        _pendingSpace = false;
    }

    /// <summary>Ends the body and writes its SHA-256 hash (32 octets) into <paramref name="destination"/>.</summary>
    public void Complete(Span<byte> destination)
    {
        // Trailing empty lines are dropped. Simple: the body ends with one CRLF (an empty body is CRLF). Relaxed: a
        // non-empty body ends with one CRLF, an empty one is empty.
        if (!_relaxed || _any)
        {
            EmitByte((byte)'\r');
            EmitByte((byte)'\n');
        }

        if (_staged > 0)
        {
            _hash.AppendData(_staging, 0, _staged);
            _staged = 0;
        }

        _hash.GetHashAndReset(destination);
    }

    public void Dispose()
    {
        _hash.Dispose();
        var staging = _staging;
        _staging = [];
        if (staging.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(staging);
        }
    }

    /// <summary>
    /// The length of the prefix of <paramref name="s"/> (which starts with a non-white-space octet) that relaxed
    /// canonicalisation leaves as it is: up to a tab, two white-space octets in a row, or white space ending the run
    /// (it may end the line, or continue in the next run).
    /// </summary>
    private static int RegularPrefix(ReadOnlySpan<byte> s)
    {
        var tab = s.IndexOf((byte)'\t');
        var limit = tab < 0 ? s : s[..tab];
        var pair = limit.IndexOf("  "u8);
        if (pair >= 0)
        {
            return pair;
        }

        if (tab >= 0)
        {
            return s[tab - 1] == (byte)' ' ? tab - 1 : tab;
        }

        return s[^1] == (byte)' ' ? s.Length - 1 : s.Length;
    }

    private void FlushLineEnds()
    {
        while (_pendingLineEnds > 0)
        {
            EmitByte((byte)'\r');
            EmitByte((byte)'\n');
            _pendingLineEnds--;
        }
    }

    private void EmitByte(byte value)
    {
        if (_staged == _staging.Length)
        {
            _hash.AppendData(_staging, 0, _staged);
            _staged = 0;
        }

        _staging[_staged++] = value;
    }

    private void Emit(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_staged == _staging.Length)
            {
                _hash.AppendData(_staging, 0, _staged);
                _staged = 0;
            }

            // Large runs go straight to the hash once the staged octets are out.
            if (_staged == 0 && data.Length >= _staging.Length)
            {
                _hash.AppendData(data);
                return;
            }

            var n = Math.Min(data.Length, _staging.Length - _staged);
            data[..n].CopyTo(_staging.AsSpan(_staged));
            _staged += n;
            data = data[n..];
        }
    }
}
