using System;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DirectMail.Smtp;

/// <summary>
/// The content of one message on the wire, once the envelope was accepted: encoded as it streams into the
/// connection's write buffer (CRLF, line limits, and for DATA dot transparency), sent whenever the buffer is full,
/// then ended so that the server gives the reply that decides. The framings, <see cref="DotStuffedDataBody"/> and
/// <see cref="BdatChunkedBody"/>, differ in how a full buffer goes out and how the end looks. One instance of each per
/// session, made ready for every message by its <c>Reset</c>: a message allocates nothing for its framing.
/// </summary>
internal abstract class SmtpMessageBody
{
    private readonly bool _dotStuffing;
    private SmtpDataEncoder _encoder;
    private long _octets;

    protected SmtpMessageBody(SmtpConnection connection, SmtpSessionOptions options, ILogger logger, bool dotStuffing)
    {
        Connection = connection;
        Options = options;
        Logger = logger;
        _dotStuffing = dotStuffing;
    }

    /// <summary>The first refusal of a chunk before the last, which decides the message (RFC 3030 section 2); never for DATA.</summary>
    public virtual SmtpReply? RefusedChunkReply => null;

    /// <summary>A 421 to a chunk before the last: the server closed and no further reply came; never for DATA.</summary>
    public virtual SmtpReply? ClosingChunkReply => null;

    protected SmtpConnection Connection { get; }

    protected SmtpSessionOptions Options { get; }

    protected ILogger Logger { get; }

    /// <summary>Where the first encoded octet goes in the write buffer (room for a command in front of it).</summary>
    protected abstract int ContentStart { get; }

    /// <summary>
    /// Sends the content but its end. True when the content is complete and <see cref="SendEndAsync"/> follows; false
    /// when a chunk was refused and the content stopped there (<see cref="RefusedChunkReply"/> holds that reply).
    /// </summary>
    /// <remarks>
    /// The caller awaits <see cref="SendEndAsync"/> and <see cref="ReadEndReplyAsync"/> itself: a message that fits the buffer completes this synchronously,
    /// and only the wait for the reply that decides is a suspended state machine.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> WriteContentAsync(SmtpContent content, SmtpCapabilities capabilities, SmtpDataStream stream)
    {
        Connection.Phase = SmtpPhase.Content;
        Connection.WriteLength = ContentStart;
        stream.Body = this;
        var cancellationToken = Connection.OperationToken;

        try
        {
            await content.WriteToAsync(stream, capabilities, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpFailureException)
        {
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception) when (RefusedChunkReply is not null)
        {
            // A chunk was refused (perhaps wrapped by the content source): no more are sent.
            Abandon();
            return false;
        }
        catch (Exception e)
        {
            // The message is incomplete: closing the connection before its end makes the server discard it.
            Connection.Abort();
            throw new SmtpFailureException(new SmtpFailure(SmtpFailureKind.ContentSourceFailed, SmtpPhase.Content, $"The message content could not be read: {e.Message}", exception: e));
        }

        if (RefusedChunkReply is not null)
        {
            // The content source swallowed the refusal of a chunk; the message still ends there.
            Abandon();
            return false;
        }

        Connection.WriteLength += _encoder.Complete(Connection.WriteBuffer.AsSpan(Connection.WriteLength));
        if (Logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientContent(Logger, _octets);
        }

        // From here on the end of the message goes out, and the server may take it whatever the caller does
        // (RFC 5321 section 4.5.3.2.6): a token canceled before this point still cancels, and the server discards
        // the unfinished message; after it, the reply is awaited for the whole Timeouts.DataTermination.
        Connection.DetachCancellation();
        return true;
    }

    /// <summary>Called by the data stream for every write of content.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> source)
    {
        if (Connection.Phase != SmtpPhase.Content)
        {
            throw new InvalidOperationException("Message content can only be written while the session sends it.");
        }

        ThrowIfStopped();
        _octets += source.Length;
        if (Options.LogContent && Logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(Logger, Encoding.UTF8.GetString(source.Span));
        }

        while (!source.IsEmpty)
        {
            var status = _encoder.Encode(source.Span, Connection.WriteBuffer.AsSpan(Connection.WriteLength), out var consumed, out var written);
            Connection.WriteLength += written;
            source = source[consumed..];
            if (status == SmtpEncodeStatus.InvalidData)
            {
                // Some content may be on the wire already; without its end the server discards the message.
                Connection.Abort();
                throw new SmtpFailureException(new SmtpFailure(SmtpFailureKind.InvalidContent, SmtpPhase.Content, _encoder.Error!));
            }

            if (status == SmtpEncodeStatus.DestinationTooSmall)
            {
                await SendBufferAsync().ConfigureAwait(false);
            }
        }

        // Leave room for the end of the content (CRLF and the dot line) after the last write.
        if (Connection.WriteBuffer.Length - Connection.WriteLength < 8)
        {
            await SendBufferAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Starts the next message: a fresh encoder, no octets counted.</summary>
    /// <param name="sevenBitOnly">True when the content is declared 7-bit: an 8-bit octet stops it.</param>
    protected void ResetBody(bool sevenBitOnly)
    {
        _encoder = new SmtpDataEncoder(_dotStuffing, sevenBitOnly);
        _octets = 0;
    }

    /// <summary>Throws when no more content may be sent (a refused chunk).</summary>
    protected virtual void ThrowIfStopped()
    {
    }

    /// <summary>Sends the encoded content in the write buffer, which is full.</summary>
    protected abstract ValueTask SendBufferAsync();

    /// <summary>
    /// Sends the end of the message: all content is encoded in the buffer, after <see cref="WriteContentAsync"/>
    /// returned true. From here the server may take the message; the next transaction's commands may follow it
    /// before its reply is read (RFC 2920 section 3.1: message content may start a group).
    /// </summary>
    public abstract ValueTask SendEndAsync();

    /// <summary>Reads the reply that decides, once <see cref="SendEndAsync"/> has sent the end; null when a 421 to a pipelined chunk ended it.</summary>
    public abstract ValueTask<SmtpReply?> ReadEndReplyAsync();

    /// <summary>Drops the encoded content not sent (and a command gap): the next command starts at the front.</summary>
    protected void Abandon() => Connection.WriteLength = 0;
}
