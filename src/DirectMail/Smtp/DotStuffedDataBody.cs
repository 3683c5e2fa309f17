using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DirectMail.Smtp;

/// <summary>
/// The content after DATA and its 354 (RFC 5321 section 4.5.2): a dot at the start of a line is doubled, and a
/// line holding a single dot ends the message. The buffer is sent whenever it is full.
/// </summary>
internal sealed class DotStuffedDataBody : SmtpMessageBody
{
    public DotStuffedDataBody(SmtpConnection connection, SmtpSessionOptions options, ILogger logger)
        : base(connection, options, logger, dotStuffing: true)
    {
    }

    /// <summary>Makes the body ready for the next message.</summary>
    public DotStuffedDataBody Reset(bool sevenBitOnly)
    {
        ResetBody(sevenBitOnly);
        return this;
    }

    protected override int ContentStart => 0;

    protected override ValueTask SendBufferAsync() => Connection.FlushAsync(Options.Timeouts.DataBlock);

    public override ValueTask SendEndAsync()
    {
        if (Options.LogContent && Logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(Logger, ".");
        }

        return Connection.FlushAsync(Options.Timeouts.DataBlock);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<SmtpReply?> ReadEndReplyAsync()
    {
        Connection.Phase = SmtpPhase.DataTermination;
        try
        {
            return await Connection.ReadReplyAsync(Options.Timeouts.DataTermination).ConfigureAwait(false);
        }
        catch (SmtpFailureException e) when (e.Failure.Kind is SmtpFailureKind.ConnectionLost or SmtpFailureKind.TimedOut)
        {
            // RFC 5321 section 4.1.1.4 and RFC 1047: the server may have taken the message; do not assume it did not.
            SmtpSessionLog.LostAfterData(Logger, Connection.ServerName, e.Failure.Exception);
            throw;
        }
    }
}
