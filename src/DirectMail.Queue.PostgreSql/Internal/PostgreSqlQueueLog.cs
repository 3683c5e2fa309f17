using Microsoft.Extensions.Logging;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>The PostgreSQL store's log lines (event ids 7200-7299).</summary>
internal static partial class PostgreSqlQueueLog
{
    [LoggerMessage(EventId = 7200, Level = LogLevel.Warning, Message = "Queued message {MessageId} quarantined (its recipients are Held): {Reason}")]
    public static partial void Quarantined(ILogger logger, string messageId, string reason);

    [LoggerMessage(EventId = 7201, Level = LogLevel.Information, Message = "Queued message {MessageId}: the lease of an earlier claim expired; {Recipients} recipients in flight are now in doubt")]
    public static partial void InFlightInDoubt(ILogger logger, string messageId, int recipients);

    [LoggerMessage(EventId = 7202, Level = LogLevel.Information, Message = "Queue schema {Schema} created (version {Version})")]
    public static partial void SchemaCreated(ILogger logger, string schema, int version);
}
