using System;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// The tables of the queue database and the one place that knows their version (<c>PRAGMA user_version</c>).
/// Times are stored as UTC ticks (INTEGER), states and body types as their enum values.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>The schema this version of the package writes; a database with a higher one is refused.</summary>
    public const int Version = 5;

    // State values used in SQL text, taken from the enum so the two cannot drift apart.
    public static readonly string Queued = ((int)QueueRecipientState.Queued).ToString(CultureInfo.InvariantCulture);
    public static readonly string Deferred = ((int)QueueRecipientState.Deferred).ToString(CultureInfo.InvariantCulture);
    public static readonly string InFlight = ((int)QueueRecipientState.InFlight).ToString(CultureInfo.InvariantCulture);
    public static readonly string Held = ((int)QueueRecipientState.Held).ToString(CultureInfo.InvariantCulture);
    public static readonly string InDoubt = ((int)QueueRecipientState.InDoubt).ToString(CultureInfo.InvariantCulture);

    /// <summary>The final states, as an SQL list: <c>(3,4,5)</c>.</summary>
    public static readonly string Final = string.Create(CultureInfo.InvariantCulture,
        $"({(int)QueueRecipientState.Delivered},{(int)QueueRecipientState.Failed},{(int)QueueRecipientState.Expired})");

    /// <summary>The highest state value a row may hold; anything else is corruption.</summary>
    public const int MaxState = (int)QueueRecipientState.InDoubt;

    // messages.done: 1 once every recipient is final (kept up to date by every write), so "pending" listings,
    //   counts and the oldest pending message come from the partial index messages_pending.
    // recipients.next_attempt_at: set only while the row is waiting for something: the due time of a Queued or
    //   Deferred recipient, or, for an InFlight one, the end of its claim's lease (so the due scan finds it once
    //   the lease has expired and turns it InDoubt). Null otherwise, which keeps the partial due index small.
    // content: the message in parts of at most one write buffer, each written with zeroblob + incremental blob I/O,
    //   so neither the length need be known up front nor a large message be held in memory.
    private static readonly string CreateV1 = $"""
        CREATE TABLE messages (
            id TEXT NOT NULL PRIMARY KEY,
            sender TEXT NOT NULL,
            body_type INTEGER NOT NULL,
            smtputf8 INTEGER NOT NULL,
            enqueued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            size INTEGER NOT NULL,
            lease_until INTEGER,
            fence INTEGER NOT NULL DEFAULT 0,
            done INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX messages_pending ON messages (enqueued_at) WHERE done = 0;
        CREATE TABLE recipients (
            message_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            address TEXT NOT NULL,
            state INTEGER NOT NULL,
            next_attempt_at INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (message_id, idx)
        ) WITHOUT ROWID;
        CREATE INDEX recipients_due ON recipients (next_attempt_at, state) WHERE next_attempt_at IS NOT NULL;
        CREATE INDEX recipients_state ON recipients (state);
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            outcome INTEGER NOT NULL,
            reply TEXT,
            mx_host TEXT,
            server_address TEXT,
            detail TEXT
        );
        CREATE INDEX attempts_recipient ON attempts (message_id, idx, id);
        CREATE TABLE content (
            message_id TEXT NOT NULL,
            part INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE UNIQUE INDEX content_part ON content (message_id, part);
        """;

    // Version 2: the counts the statistics report, kept by triggers in the same transaction as the rows they count, so
    //   reading them costs the same with a million recipients as with ten (counting the rows scanned every index,
    //   seconds on a cold cache). Triggers live in the database: whatever writes the rows keeps the counts.
    // recipient_counts: one row per state value, created up front, so the triggers only ever UPDATE.
    // totals: 'pending' (messages with done = 0) and 'attempts'.
    private static readonly string CreateCountsV2 = $"""
        CREATE TABLE recipient_counts (state INTEGER NOT NULL PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
        WITH RECURSIVE s(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM s WHERE v < {MaxState})
            INSERT INTO recipient_counts (state, n) SELECT v, (SELECT count(*) FROM recipients WHERE state = v) FROM s;
        CREATE TABLE totals (name TEXT NOT NULL PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO totals (name, n) VALUES
            ('pending', (SELECT count(*) FROM messages WHERE done = 0)),
            ('attempts', (SELECT count(*) FROM attempts));
        CREATE TRIGGER recipients_counted AFTER INSERT ON recipients BEGIN
            UPDATE recipient_counts SET n = n + 1 WHERE state = NEW.state;
        END;
        CREATE TRIGGER recipients_uncounted AFTER DELETE ON recipients BEGIN
            UPDATE recipient_counts SET n = n - 1 WHERE state = OLD.state;
        END;
        CREATE TRIGGER recipients_recounted AFTER UPDATE OF state ON recipients WHEN OLD.state IS NOT NEW.state BEGIN
            UPDATE recipient_counts SET n = n - 1 WHERE state = OLD.state;
            UPDATE recipient_counts SET n = n + 1 WHERE state = NEW.state;
        END;
        CREATE TRIGGER messages_counted AFTER INSERT ON messages WHEN NEW.done = 0 BEGIN
            UPDATE totals SET n = n + 1 WHERE name = 'pending';
        END;
        CREATE TRIGGER messages_uncounted AFTER DELETE ON messages WHEN OLD.done = 0 BEGIN
            UPDATE totals SET n = n - 1 WHERE name = 'pending';
        END;
        CREATE TRIGGER messages_recounted AFTER UPDATE OF done ON messages WHEN (OLD.done = 0) IS NOT (NEW.done = 0) BEGIN
            UPDATE totals SET n = n + (CASE WHEN NEW.done = 0 THEN 1 ELSE -1 END) WHERE name = 'pending';
        END;
        CREATE TRIGGER attempts_counted AFTER INSERT ON attempts BEGIN
            UPDATE totals SET n = n + 1 WHERE name = 'attempts';
        END;
        CREATE TRIGGER attempts_uncounted AFTER DELETE ON attempts BEGIN
            UPDATE totals SET n = n - 1 WHERE name = 'attempts';
        END;
        """;

    // Version 3: the DSN parameters of RFC 3461, so a queued message is sent again with what it was enqueued with:
    //   RET (0 FULL, 1 HDRS, NULL none) and ENVID as given, each recipient's NOTIFY (the DsnNotify flags, 0 none) and
    //   ORCPT as given. Columns added with defaults: existing rows read as "no parameters".
    private static readonly string AddDsnV3 = $"""
        ALTER TABLE messages ADD COLUMN dsn_ret INTEGER;
        ALTER TABLE messages ADD COLUMN dsn_envid TEXT;
        ALTER TABLE recipients ADD COLUMN dsn_notify INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE recipients ADD COLUMN dsn_orcpt TEXT;
        """;

    // Version 4: REQUIRETLS (RFC 8689) per message (1 on, 0 off), so every retry sends with it; and the content's
    //   Message-ID (without angle brackets, NULL when none), indexed, to correlate a bounce that names only it. Columns
    //   added with defaults: existing rows read as "no REQUIRETLS", "no Message-ID".
    private static readonly string AddRequireTlsAndMessageIdV4 = $"""
        ALTER TABLE messages ADD COLUMN require_tls INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN internet_message_id TEXT;
        CREATE INDEX messages_internet_message_id ON messages (internet_message_id) WHERE internet_message_id IS NOT NULL;
        """;

    // Version 5: the content's header has "TLS-Required: No" (RFC 8689 section 5) (1 yes, 0 no), so every retry ignores
    //   the recipient's MTA-STS and DANE policy as the first send did. Column added with a default: existing rows read
    //   as "policy applies".
    private static readonly string AddTlsRequiredNoV5 = $"""
        ALTER TABLE messages ADD COLUMN tls_required_no INTEGER NOT NULL DEFAULT 0;
        PRAGMA user_version = {Version};
        """;

    /// <summary>
    /// Sets the writer connection up: WAL, synchronous=NORMAL (the writer fsyncs the log itself), and the schema (created when the file is new).
    /// </summary>
    /// <exception cref="InvalidOperationException">The database was written by a newer version of the package.</exception>
    public static void Open(SqliteConnection connection, string path)
    {
        // WAL: readers never block the writer, and a commit is one append plus one fsync of the log.
        // synchronous=NORMAL: SQLite syncs the log before each checkpoint and the database after it, but not at a commit;
        // the writer's WalFlusher fsyncs the log after every commit and only then tells the callers, which keeps
        // "a write returns only once durable" (as FULL would) while the next batch runs during the fsync.
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        using var transaction = connection.BeginTransaction();
        var version = Convert.ToInt32(Scalar(connection, transaction, "PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (version > Version)
        {
            throw new InvalidOperationException(
                $"The queue database {path} has schema version {version}; this version of DirectMail.Queue.Sqlite knows " +
                $"versions up to {Version}. Use the newer package that wrote it.");
        }

        if (version < Version)
        {
            // A new file gets version 1's tables, then every upgrade in turn, in one transaction; version 2's counts are
            // taken from the rows once.
            using var create = connection.CreateCommand();
            create.Transaction = transaction;
            create.CommandText = version switch
            {
                0 => CreateV1 + CreateCountsV2 + AddDsnV3 + AddRequireTlsAndMessageIdV4 + AddTlsRequiredNoV5,
                1 => CreateCountsV2 + AddDsnV3 + AddRequireTlsAndMessageIdV4 + AddTlsRequiredNoV5,
                2 => AddDsnV3 + AddRequireTlsAndMessageIdV4 + AddTlsRequiredNoV5,
                3 => AddRequireTlsAndMessageIdV4 + AddTlsRequiredNoV5,
                _ => AddTlsRequiredNoV5,
            };
            create.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>The highest DSN NOTIFY value a row may hold (every flag set); NEVER with another flag is corruption too.</summary>
    public const int MaxNotify = 15;

    /// <summary>A stored NOTIFY value, or null when it is not one this store writes.</summary>
    public static DirectMail.Smtp.DsnNotify? ToNotify(long value) =>
        value is < 0 or > MaxNotify || ((value & 1) != 0 && value != 1) ? null : (DirectMail.Smtp.DsnNotify)value;

    /// <summary>A stored RET value, or null when it is not one this store writes (the caller tells NULL apart).</summary>
    public static DirectMail.Smtp.DsnReturn? ToReturn(long value) =>
        value is (long)DirectMail.Smtp.DsnReturn.Full or (long)DirectMail.Smtp.DsnReturn.Headers ? (DirectMail.Smtp.DsnReturn)value : null;

    /// <summary>A stored time (UTC ticks) as a <see cref="DateTimeOffset"/> in UTC.</summary>
    public static DateTimeOffset ToTime(long ticks) => new(ticks, TimeSpan.Zero);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>
    /// Turns a message's InFlight recipients InDoubt: whoever marked them is gone (lease expired) or reported no outcome
    /// for them. Built once here, after the state values it uses.
    /// </summary>
    public static readonly string InFlightToInDoubt =
        $"UPDATE recipients SET state = {InDoubt}, next_attempt_at = NULL WHERE message_id = $id AND state = {InFlight}";
}

