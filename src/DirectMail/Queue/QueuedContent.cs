using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dkim;
using DirectMail.IO;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>
/// A queued message's stored content as the worker sends it, with the exactly-once barrier: every write to a server
/// holds back the last octet until the recipients are marked InFlight in the store (<see cref="IMailQueueStore.MarkInFlightAsync"/>).
/// A server cannot take a message before it has every octet (DATA ends with the CRLF.CRLF the session writes after
/// this returns; BDAT LAST carries the last chunk's octets), so a worker that dies after the mark leaves the
/// recipients InDoubt, and one that dies before it leaves them due: never sent twice without knowing.
/// </summary>
/// <remarks>
/// The stored content is already in wire form (<see cref="StoredContentWriter"/>): its length is SIZE's. Writes into
/// the DKIM hasher (the signature's first pass) pass through whole; its second pass writes here again, to the server.
/// </remarks>
internal sealed class QueuedContent : SmtpContent
{
    private const int Chunk = 64 * 1024;

    private readonly Stream _source;
    private readonly long _start;
    private readonly SmtpBodyType _bodyType;
    private readonly bool _requiresSmtpUtf8;
    private readonly bool _tlsRequiredNo;
    private readonly Func<CancellationToken, ValueTask> _markInFlight;
    private ContentSpool? _spool;
    private long? _length;
    private int _marked;

    public QueuedContent(Stream source, SmtpBodyType bodyType, bool requiresSmtpUtf8, bool tlsRequiredNo, Func<CancellationToken, ValueTask> markInFlight)
    {
        _source = source;
        _bodyType = bodyType;
        _requiresSmtpUtf8 = requiresSmtpUtf8;
        _tlsRequiredNo = tlsRequiredNo;
        _markInFlight = markInFlight;
        _start = source.CanSeek ? source.Position : 0;
        _length = source.CanSeek ? source.Length - _start : null;
    }

    /// <summary>True once the mark was made.</summary>
    public bool Marked => Volatile.Read(ref _marked) != 0;

    public override bool RequiresSmtpUtf8 => _requiresSmtpUtf8;

    /// <summary>The stored header has <c>TLS-Required: No</c>, as the store kept it (<see cref="QueueClaim.IgnoreRecipientTlsPolicy"/>).</summary>
    internal override bool TlsRequiredNo => _tlsRequiredNo;

    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => _bodyType;

    public override long? GetLength(SmtpCapabilities capabilities) => _length;

    /// <summary>
    /// A seekable store stream is rewound for every write; a forward-only one is read once into a spool of the send,
    /// so that a fallback to the next MX host can write it again and its length is known (DKIM then signs in two passes
    /// over this content instead of a spool of its own, and the second pass, to the server, goes through the barrier).
    /// </summary>
    internal override async ValueTask<SmtpContent> ShareAsync(ContentSpools spools, bool concurrent, CancellationToken cancellationToken)
    {
        if (!_source.CanSeek && _spool is null)
        {
            _spool = spools.Create();
            await ContentSpool.FillAsync(_source, _spool, static _ => { }, cancellationToken).ConfigureAwait(false);
            _length = _spool.Length;
        }

        return this;
    }

    public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Stream source;
        if (_spool is not null)
        {
            source = _spool.OpenRead();
        }
        else
        {
            if (_source.CanSeek)
            {
                _source.Position = _start;
            }

            source = _source;
        }

        try
        {
            if (destination is DkimMessageHasher)
            {
                await source.CopyToAsync(destination, Chunk, cancellationToken).ConfigureAwait(false);
                return;
            }

            await WriteWithBarrierAsync(source, destination, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!ReferenceEquals(source, _source))
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async ValueTask WriteWithBarrierAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        // One chunk is always held back until the next read shows whether it is the last.
        var held = ArrayPool<byte>.Shared.Rent(Chunk);
        var next = ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            var heldCount = await source.ReadAsync(held.AsMemory(0, Chunk), cancellationToken).ConfigureAwait(false);
            while (heldCount > 0)
            {
                var nextCount = await source.ReadAsync(next.AsMemory(0, Chunk), cancellationToken).ConfigureAwait(false);
                if (nextCount == 0)
                {
                    break;
                }

                await destination.WriteAsync(held.AsMemory(0, heldCount), cancellationToken).ConfigureAwait(false);
                (held, next) = (next, held);
                heldCount = nextCount;
            }

            if (heldCount > 1)
            {
                await destination.WriteAsync(held.AsMemory(0, heldCount - 1), cancellationToken).ConfigureAwait(false);
            }

            // The barrier: the last octet goes only once the store says InFlight.
            if (Interlocked.Exchange(ref _marked, 1) == 0)
            {
                try
                {
                    await _markInFlight(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    Volatile.Write(ref _marked, 0);
                    throw;
                }
            }

            if (heldCount > 0)
            {
                await destination.WriteAsync(held.AsMemory(heldCount - 1, 1), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(held);
            ArrayPool<byte>.Shared.Return(next);
        }
    }
}
