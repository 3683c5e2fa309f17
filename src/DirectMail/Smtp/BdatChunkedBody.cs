using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DirectMail.Smtp;

/// <summary>
/// The content as BDAT chunks (RFC 3030 CHUNKING): each full buffer goes out behind its own <c>BDAT size</c>
/// command, in the same write, and the last as <c>BDAT size LAST</c>. No dot transparency. Without PIPELINING each
/// chunk waits for its reply; with it, the replies are read after the last chunk.
/// </summary>
internal sealed class BdatChunkedBody : SmtpMessageBody
{
    /// <summary>The gap kept in front of every chunk for its BDAT command.</summary>
    private const int HeaderReserve = 32;
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private bool _repliesPipelined;
    private int _pendingReplies;
    private SmtpReply? _refusedChunkReply;
    private SmtpReply? _closingChunkReply;

    public BdatChunkedBody(SmtpConnection connection, SmtpSessionOptions options, ILogger logger)
        : base(connection, options, logger, dotStuffing: false)
    {
    }

    /// <summary>Makes the body ready for the next message; <paramref name="repliesPipelined"/> when the server offers PIPELINING.</summary>
    public BdatChunkedBody Reset(bool sevenBitOnly, bool repliesPipelined)
    {
        ResetBody(sevenBitOnly);
        _repliesPipelined = repliesPipelined;
        _pendingReplies = 0;
        _refusedChunkReply = null;
        _closingChunkReply = null;
        return this;
    }

    public override SmtpReply? RefusedChunkReply => _refusedChunkReply;

    public override SmtpReply? ClosingChunkReply => _closingChunkReply;

    protected override int ContentStart => HeaderReserve;

    protected override void ThrowIfStopped()
    {
        if (_refusedChunkReply is not null)
        {
            // A chunk was refused: nothing more of this message is sent (RFC 3030 section 2).
            throw new ChunkRefusedException();
        }
    }

    protected override ValueTask SendBufferAsync() => SendChunkAsync(last: false);

    public override ValueTask SendEndAsync() => SendChunkAsync(last: true);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<SmtpReply?> ReadEndReplyAsync()
    {
        Connection.Phase = SmtpPhase.DataTermination;
        SmtpReply? final = null;
        try
        {
            while (_pendingReplies > 0)
            {
                var last = _pendingReplies == 1;
                final = await ReadChunkReplyAsync(last ? Options.Timeouts.DataTermination : Options.Timeouts.DataBlock, last).ConfigureAwait(false);
            }
        }
        catch (ChunkRefusedException)
        {
            // A 421 to a pipelined chunk before the last: the server closed; no other reply will come.
            Abandon();
            return null;
        }

        return final!;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendChunkAsync(bool last)
    {
        // The chunk was encoded after a reserved gap; its BDAT command is written into the end of the gap so that
        // command and chunk go out in one write (RFC 3030 section 2).
        var buffer = Connection.WriteBuffer;
        var size = Connection.WriteLength - HeaderReserve;
        Span<byte> header = stackalloc byte[HeaderReserve];
        "BDAT "u8.CopyTo(header);
        size.TryFormat(header[5..], out var digits, default, CultureInfo.InvariantCulture);
        var headerLength = 5 + digits;
        if (last)
        {
            " LAST"u8.CopyTo(header[headerLength..]);
            headerLength += 5;
        }

        CrLf.CopyTo(header[headerLength..]);
        headerLength += 2;
        var start = HeaderReserve - headerLength;
        header[..headerLength].CopyTo(buffer.AsSpan(start));
        if (Logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(Logger, Encoding.ASCII.GetString(header[..(headerLength - 2)]));
        }

        await Connection.WriteAsync(buffer.AsMemory(start, Connection.WriteLength - start), Options.Timeouts.DataBlock).ConfigureAwait(false);

        // The next chunk is encoded after the reserved gap again; after the last one, commands start at the front.
        Connection.WriteLength = last ? 0 : HeaderReserve;
        _pendingReplies++;
        if (!_repliesPipelined && !last)
        {
            // Without PIPELINING each BDAT waits for its reply (RFC 3030 section 4.2), and a refused one is the last.
            await ReadChunkReplyAsync(Options.Timeouts.DataBlock, last: false).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the reply to one BDAT. The first refusal of a chunk before the last decides the message (RFC 3030
    /// section 2); it stops the content with <see cref="ChunkRefusedException"/> when no further chunk may be sent
    /// (lock-step, without PIPELINING) or no further reply will come (421).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpReply> ReadChunkReplyAsync(TimeSpan timeout, bool last)
    {
        var reply = await Connection.ReadReplyAsync(timeout).ConfigureAwait(false);
        _pendingReplies--;
        if (!last && !reply.IsPositiveCompletion)
        {
            _refusedChunkReply ??= reply;
            if (reply.Code == 421)
            {
                _closingChunkReply = reply;
                Connection.Abort();
                throw new ChunkRefusedException();
            }

            if (!_repliesPipelined)
            {
                throw new ChunkRefusedException();
            }
        }

        return reply;
    }

    /// <summary>Stops the content when a BDAT chunk was refused and no further one may be sent.</summary>
    private sealed class ChunkRefusedException : Exception
    {
        public ChunkRefusedException()
            : base("The server refused a BDAT chunk; no further chunk is sent.")
        {
        }
    }
}
