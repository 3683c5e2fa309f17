using System.Globalization;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// Every statement of the store, built once per store for its schema (the schema name is checked to be a plain
/// identifier, so it is written unquoted). States and body types are stored as their enum values, times as
/// <c>timestamptz</c> (microseconds: a time comes back truncated to the microsecond).
/// </summary>
/// <remarks>
/// <c>messages.next_due_at</c> is when the claim scan next looks at a message: while a claim holds it, the end of the
/// lease (so a message whose worker died is found when the lease expires, and its InFlight recipients become InDoubt
/// even when nothing else of it is due); otherwise the earliest due time of its Queued and Deferred recipients; null
/// when nothing of it will be due by itself. Every write keeps it so, which lets a claim walk one small index in due
/// order and stop at the number asked. Rows are locked message first, then its recipients, by every writer, so two
/// writers never wait on each other in opposite orders.
/// </remarks>
internal sealed class QueueSql
{
    /// <summary>The schema this version of the package writes; a database with a higher one is refused.</summary>
    public const int Version = 4;

    private static readonly string Queued = Value(QueueRecipientState.Queued);
    private static readonly string Deferred = Value(QueueRecipientState.Deferred);
    private static readonly string InFlight = Value(QueueRecipientState.InFlight);
    private static readonly string Held = Value(QueueRecipientState.Held);
    private static readonly string InDoubt = Value(QueueRecipientState.InDoubt);
    private static readonly string Failed = Value(QueueRecipientState.Failed);

    /// <summary>The final states, as an SQL list.</summary>
    private static readonly string Final = $"({Value(QueueRecipientState.Delivered)}, {Failed}, {Value(QueueRecipientState.Expired)})";

    public QueueSql(string schema)
    {
        Schema = schema;
        var s = schema;
        var dueOfRecipients = $"(SELECT min(r.next_attempt_at) FROM {s}.recipients r WHERE r.message_id = m.id AND r.state IN ({Queued}, {Deferred}))";
        var done = $"NOT EXISTS (SELECT 1 FROM {s}.recipients r WHERE r.message_id = m.id AND r.state NOT IN {Final})";
        var dropDoneContent = $"DELETE FROM {s}.content c USING {s}.messages m WHERE c.message_id = m.id AND m.id = ANY($1) AND m.done";

        CreateV1 = SplitStatements($"""
            CREATE TABLE {s}.messages (
                id text COLLATE "C" PRIMARY KEY,
                sender text NOT NULL,
                body_type smallint NOT NULL,
                smtputf8 boolean NOT NULL,
                enqueued_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL,
                size bigint NOT NULL,
                next_due_at timestamptz,
                lease_until timestamptz,
                fence bigint NOT NULL DEFAULT 0,
                done boolean NOT NULL DEFAULT false
            );
            CREATE INDEX messages_due ON {s}.messages (next_due_at, id) WHERE next_due_at IS NOT NULL;
            CREATE INDEX messages_pending ON {s}.messages (enqueued_at) WHERE NOT done;
            CREATE TABLE {s}.recipients (
                message_id text COLLATE "C" NOT NULL REFERENCES {s}.messages (id) ON DELETE CASCADE,
                idx integer NOT NULL,
                address text NOT NULL,
                state smallint NOT NULL,
                next_attempt_at timestamptz,
                attempts integer NOT NULL DEFAULT 0,
                PRIMARY KEY (message_id, idx)
            );
            CREATE INDEX recipients_state ON {s}.recipients (state);
            CREATE INDEX recipients_due ON {s}.recipients (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
            CREATE TABLE {s}.attempts (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                message_id text COLLATE "C" NOT NULL REFERENCES {s}.messages (id) ON DELETE CASCADE,
                idx integer NOT NULL,
                started_at timestamptz NOT NULL,
                outcome smallint NOT NULL,
                reply text,
                mx_host text,
                server_address text,
                detail text
            );
            CREATE INDEX attempts_message ON {s}.attempts (message_id, idx, id);
            CREATE TABLE {s}.content (
                message_id text COLLATE "C" NOT NULL REFERENCES {s}.messages (id) ON DELETE CASCADE,
                part integer NOT NULL,
                data bytea NOT NULL,
                PRIMARY KEY (message_id, part)
            );
            ALTER TABLE {s}.content ALTER COLUMN data SET STORAGE EXTERNAL;
            CREATE TABLE {s}.rate_buckets (
                key text PRIMARY KEY,
                tokens double precision NOT NULL,
                updated_at timestamptz NOT NULL
            );
            CREATE TABLE {s}.connection_slots (
                key text NOT NULL,
                slot integer NOT NULL,
                holder text,
                lease_until timestamptz,
                PRIMARY KEY (key, slot)
            );
            """);

        // Version 2: the DSN parameters of RFC 3461 (RET as 0 FULL / 1 HDRS, ENVID and ORCPT as given, NOTIFY as the
        // DsnNotify flags), so a queued message is sent again with what it was enqueued with. Existing rows read as
        // "no parameters".
        AddDsnV2 = SplitStatements($"""
            ALTER TABLE {s}.messages ADD COLUMN dsn_ret smallint;
            ALTER TABLE {s}.messages ADD COLUMN dsn_envid text;
            ALTER TABLE {s}.recipients ADD COLUMN dsn_notify smallint NOT NULL DEFAULT 0;
            ALTER TABLE {s}.recipients ADD COLUMN dsn_orcpt text;
            """);

        // Version 3: REQUIRETLS (RFC 8689) per message, so every retry sends with it; and the content's Message-ID
        // (without angle brackets), indexed, to correlate a bounce that names only it. Existing rows read as "no
        // REQUIRETLS", "no Message-ID".
        AddRequireTlsAndMessageIdV3 = SplitStatements($"""
            ALTER TABLE {s}.messages ADD COLUMN require_tls boolean NOT NULL DEFAULT false;
            ALTER TABLE {s}.messages ADD COLUMN internet_message_id text COLLATE "C";
            CREATE INDEX messages_internet_message_id ON {s}.messages (internet_message_id, id) WHERE internet_message_id IS NOT NULL;
            """);

        // Version 4: the content's header has "TLS-Required: No" (RFC 8689 section 5), so every retry ignores the
        // recipient's MTA-STS and DANE policy as the first send did. Existing rows read as "policy applies".
        AddTlsRequiredNoV4 = SplitStatements($"""
            ALTER TABLE {s}.messages ADD COLUMN tls_required_no boolean NOT NULL DEFAULT false;
            """);

        InsertMessage =
            $"INSERT INTO {s}.messages (id, sender, body_type, smtputf8, enqueued_at, expires_at, size, next_due_at, dsn_ret, dsn_envid, require_tls, internet_message_id, done, tls_required_no) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
        FindByInternetMessageId =
            $"SELECT id FROM {s}.messages WHERE internet_message_id = $1 ORDER BY id LIMIT $2";
        InsertRecipients =
            $"INSERT INTO {s}.recipients (message_id, idx, address, state, next_attempt_at, attempts, dsn_notify, dsn_orcpt) " +
            "SELECT $1, u.i - 1, u.a, u.s, u.n, u.t, u.d, u.o FROM unnest($2::text[], $3::smallint[], $4::timestamptz[], $5::integer[], $6::smallint[], $7::text[]) WITH ORDINALITY AS u(a, s, n, t, d, o, i)";
        InsertAttempts =
            $"INSERT INTO {s}.attempts (message_id, idx, started_at, outcome, reply, mx_host, server_address, detail) " +
            "SELECT $1, u.* FROM unnest($2::integer[], $3::timestamptz[], $4::smallint[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u";
        InsertPart = $"INSERT INTO {s}.content (message_id, part, data) VALUES ($1, $2, $3)";
        UpdateSize = $"UPDATE {s}.messages SET size = $2 WHERE id = $1";

        ClaimCandidates =
            $"SELECT id FROM {s}.messages WHERE next_due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) " +
            "ORDER BY next_due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED";
        ClaimInFlightToInDoubt =
            $"UPDATE {s}.recipients SET state = {InDoubt}, next_attempt_at = NULL WHERE message_id = ANY($1) AND state = {InFlight} RETURNING message_id";
        ClaimReadMessages =
            $"SELECT id, sender, body_type, smtputf8, enqueued_at, expires_at, size, dsn_ret, dsn_envid, require_tls, tls_required_no FROM {s}.messages WHERE id = ANY($1)";
        ClaimReadRecipients =
            $"SELECT message_id, idx, address, state, next_attempt_at, attempts, dsn_notify, dsn_orcpt FROM {s}.recipients WHERE message_id = ANY($1) ORDER BY message_id, idx";
        ClaimReadContent =
            $"SELECT message_id, count(*), coalesce(sum(length(data)), 0), max(part) FROM {s}.content WHERE message_id = ANY($1) GROUP BY message_id";
        ClaimTake =
            $"UPDATE {s}.messages SET fence = fence + 1, lease_until = $2, next_due_at = $2 WHERE id = ANY($1) RETURNING id, fence";
        ClaimPass =
            $"UPDATE {s}.messages m SET fence = fence + 1, lease_until = NULL, next_due_at = {dueOfRecipients} WHERE id = ANY($1)";
        QuarantineAttempts =
            $"INSERT INTO {s}.attempts (message_id, idx, started_at, outcome, detail) " +
            $"SELECT r.message_id, r.idx, $3, {Held}, 'Quarantined by the PostgreSQL queue store: ' || q.reason " +
            $"FROM {s}.recipients r JOIN unnest($1::text[], $2::text[]) AS q(id, reason) ON r.message_id = q.id WHERE r.state NOT IN {Final}";
        QuarantineRecipients =
            $"UPDATE {s}.recipients SET state = {Held}, next_attempt_at = NULL, attempts = attempts + 1 WHERE message_id = ANY($1) AND state NOT IN {Final}";
        QuarantineMessages =
            $"UPDATE {s}.messages SET fence = fence + 1, lease_until = NULL, next_due_at = NULL WHERE id = ANY($1)";

        ContentParts = $"SELECT part, length(data) FROM {s}.content WHERE message_id = $1 ORDER BY part";
        ContentPart = $"SELECT data FROM {s}.content WHERE message_id = $1 AND part = $2";

        // The lock on the message row serialises the check with any claim or operation; the recipients change only
        // when the fence is still this claim's. One statement: one round trip, its own transaction.
        MarkInFlight =
            $"WITH m AS (SELECT fence FROM {s}.messages WHERE id = $1 FOR UPDATE), " +
            $"u AS (UPDATE {s}.recipients r SET state = {InFlight}, next_attempt_at = NULL FROM m " +
            $"WHERE m.fence = $2 AND r.message_id = $1 AND r.idx = ANY($3) AND r.state IN ({Queued}, {Deferred}) RETURNING 1) " +
            "SELECT m.fence, (SELECT count(*) FROM u) FROM m";
        RenewLease =
            $"UPDATE {s}.messages SET lease_until = $3, next_due_at = $3 WHERE id = $1 AND fence = $2 RETURNING fence";
        CurrentFence = $"SELECT fence FROM {s}.messages WHERE id = $1";
        LockFence = $"SELECT fence FROM {s}.messages WHERE id = $1 FOR UPDATE";
        CompleteRecipients =
            $"UPDATE {s}.recipients r SET state = u.state, next_attempt_at = u.next, attempts = r.attempts + u.added " +
            "FROM unnest($2::integer[], $3::smallint[], $4::timestamptz[], $5::integer[]) AS u(idx, state, next, added) " +
            "WHERE r.message_id = $1 AND r.idx = u.idx";
        CompleteInFlightToInDoubt =
            $"UPDATE {s}.recipients SET state = {InDoubt}, next_attempt_at = NULL WHERE message_id = $1 AND state = {InFlight}";
        CompleteMessage =
            $"UPDATE {s}.messages m SET fence = fence + 1, lease_until = NULL, next_due_at = {dueOfRecipients}, done = {done} WHERE id = $1";
        CompleteDropContent =
            $"DELETE FROM {s}.content WHERE message_id = $1 AND (SELECT done FROM {s}.messages WHERE id = $1)";

        // Operator operations: lock the messages concerned (in id order), then change their recipients.
        // $1: the message id, or NULL for every message; $2 (Flush): now.
        string Lock(string recipientsWhere) =>
            $"SELECT id FROM {s}.messages WHERE id IN (SELECT message_id FROM {s}.recipients WHERE {recipientsWhere} AND ($1::text IS NULL OR message_id = $1)) ORDER BY id FOR UPDATE";
        LockHold = Lock($"state IN ({Queued}, {Deferred})");
        LockRelease = Lock($"state IN ({Held}, {InDoubt})");
        LockFlush = Lock($"state IN ({Queued}, {Deferred}) AND next_attempt_at > $2::timestamptz");
        LockBounce = Lock($"state NOT IN {Final}");
        LockDelete = $"SELECT id FROM {s}.messages WHERE ($1::text IS NULL OR id = $1) ORDER BY id FOR UPDATE";

        // $1: the locked ids; $2: now. Hold and Bounce end a claim the messages are under (the fence moves on), and what
        // its worker had marked InFlight becomes InDoubt (Hold) or Failed (Bounce): never sent twice.
        Hold =
            $"UPDATE {s}.recipients SET state = {Held}, next_attempt_at = NULL WHERE message_id = ANY($1) AND state IN ({Queued}, {Deferred})";
        HoldEnd =
        [
            $"UPDATE {s}.recipients SET state = {InDoubt}, next_attempt_at = NULL WHERE message_id = ANY($1) AND state = {InFlight}",
            $"UPDATE {s}.messages m SET fence = CASE WHEN lease_until IS NULL THEN fence ELSE fence + 1 END, lease_until = NULL, next_due_at = {dueOfRecipients} WHERE id = ANY($1)",
        ];
        Release =
            $"UPDATE {s}.recipients SET state = {Queued}, next_attempt_at = $2 WHERE message_id = ANY($1) AND state IN ({Held}, {InDoubt})";
        Flush =
            $"UPDATE {s}.recipients SET next_attempt_at = $2 WHERE message_id = ANY($1) AND state IN ({Queued}, {Deferred}) AND next_attempt_at > $2";
        RefreshDue =
            $"UPDATE {s}.messages m SET next_due_at = coalesce(lease_until, {dueOfRecipients}) WHERE id = ANY($1)";
        BounceAttempts =
            $"INSERT INTO {s}.attempts (message_id, idx, started_at, outcome, reply) " +
            $"SELECT message_id, idx, $2, {Failed}, $3 FROM {s}.recipients WHERE message_id = ANY($1) AND state NOT IN {Final}";
        Bounce =
            $"UPDATE {s}.recipients SET state = {Failed}, next_attempt_at = NULL, attempts = attempts + 1 WHERE message_id = ANY($1) AND state NOT IN {Final}";
        BounceEnd =
        [
            $"UPDATE {s}.messages m SET fence = CASE WHEN lease_until IS NULL THEN fence ELSE fence + 1 END, lease_until = NULL, next_due_at = NULL, done = {done} WHERE id = ANY($1)",
            dropDoneContent,
        ];
        DeleteCount = $"SELECT count(*) FROM {s}.recipients WHERE message_id = ANY($1)";
        Delete = $"DELETE FROM {s}.messages WHERE id = ANY($1)";

        ReadMessage = $"SELECT id, sender, size, enqueued_at, expires_at, dsn_ret, dsn_envid, require_tls, internet_message_id, tls_required_no FROM {s}.messages WHERE id = $1";
        ReadPage = $"SELECT id, sender, size, enqueued_at, expires_at, dsn_ret, dsn_envid, require_tls, internet_message_id, tls_required_no FROM {s}.messages WHERE id > $1 ORDER BY id LIMIT $2";
        ReadPendingPage = $"SELECT id, sender, size, enqueued_at, expires_at, dsn_ret, dsn_envid, require_tls, internet_message_id, tls_required_no FROM {s}.messages WHERE id > $1 AND NOT done ORDER BY id LIMIT $2";
        ReadRecipients = $"SELECT message_id, idx, address, state, next_attempt_at, dsn_notify, dsn_orcpt FROM {s}.recipients WHERE message_id = ANY($1) ORDER BY message_id, idx";
        ReadAttempts =
            $"SELECT message_id, idx, started_at, outcome, reply, mx_host, server_address, detail FROM {s}.attempts WHERE message_id = ANY($1) ORDER BY message_id, idx, id";
        Statistics =
        [
            $"SELECT state, count(*) FROM {s}.recipients GROUP BY state",
            $"SELECT count(*), min(enqueued_at) FROM {s}.messages WHERE NOT done",
            $"SELECT min(next_attempt_at) FROM {s}.recipients WHERE next_attempt_at IS NOT NULL AND state IN ({Queued}, {Deferred})",
            $"SELECT count(*) FROM {s}.attempts",
        ];

        // One statement: the bucket refills by the time since its last take (never backwards when instances' clocks
        // differ), is capped at the burst, and gives one token, going negative when waiters are ahead.
        TakeToken =
            $"INSERT INTO {s}.rate_buckets AS b (key, tokens, updated_at) VALUES ($1, $3 - 1, $4) " +
            "ON CONFLICT (key) DO UPDATE SET " +
            "tokens = least($3, b.tokens + $2 * greatest(0, extract(epoch FROM ($4 - b.updated_at))::double precision)) - 1, " +
            "updated_at = greatest(b.updated_at, $4) RETURNING tokens";
        // The key's slots as rows 0..max-1 (made on first use), then one free or expired slot taken under a row lock that
        // a concurrent taker skips: two instances never take the same slot, and never more than max between them.
        EnsureSlots = $"INSERT INTO {s}.connection_slots (key, slot) SELECT $1, generate_series(0, $2 - 1) ON CONFLICT DO NOTHING";
        // A holder that already has a slot of the key renews it (the worker renews a long send's slot this way); only
        // otherwise is a free or expired slot taken. The data-modifying CTEs see one snapshot, so the take runs only
        // when the renewal found nothing.
        TakeSlot =
            $"WITH renewed AS (UPDATE {s}.connection_slots SET lease_until = $5 WHERE key = $1 AND holder = $3 AND slot < $2 RETURNING slot), " +
            $"taken AS (UPDATE {s}.connection_slots SET holder = $3, lease_until = $5 WHERE NOT EXISTS (SELECT 1 FROM renewed) AND key = $1 AND slot = " +
            $"(SELECT slot FROM {s}.connection_slots WHERE key = $1 AND slot < $2 AND (holder IS NULL OR lease_until <= $4) ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED) " +
            "RETURNING slot) " +
            "SELECT slot FROM renewed UNION ALL SELECT slot FROM taken";
        ReleaseSlot = $"UPDATE {s}.connection_slots SET holder = NULL, lease_until = NULL WHERE key = $1 AND holder = $2";
    }

    public string Schema { get; }

    /// <summary>The statements that create version 1, one by one.</summary>
    public string[] CreateV1 { get; }

    /// <summary>Version 2's upgrade: the DSN columns.</summary>
    public string[] AddDsnV2 { get; }

    /// <summary>Version 3's upgrade: REQUIRETLS and the indexed content Message-ID.</summary>
    public string[] AddRequireTlsAndMessageIdV3 { get; }

    /// <summary>Version 4's upgrade: TLS-Required: No.</summary>
    public string[] AddTlsRequiredNoV4 { get; }

    public string InsertMessage { get; }

    public string FindByInternetMessageId { get; }

    public string InsertRecipients { get; }

    public string InsertAttempts { get; }

    public string InsertPart { get; }

    public string UpdateSize { get; }

    public string ClaimCandidates { get; }

    public string ClaimInFlightToInDoubt { get; }

    public string ClaimReadMessages { get; }

    public string ClaimReadRecipients { get; }

    public string ClaimReadContent { get; }

    public string ClaimTake { get; }

    public string ClaimPass { get; }

    public string QuarantineAttempts { get; }

    public string QuarantineRecipients { get; }

    public string QuarantineMessages { get; }

    public string ContentParts { get; }

    public string ContentPart { get; }

    public string MarkInFlight { get; }

    public string RenewLease { get; }

    public string CurrentFence { get; }

    public string LockFence { get; }

    public string CompleteRecipients { get; }

    public string CompleteInFlightToInDoubt { get; }

    public string CompleteMessage { get; }

    public string CompleteDropContent { get; }

    public string LockHold { get; }

    public string LockRelease { get; }

    public string LockFlush { get; }

    public string LockBounce { get; }

    public string LockDelete { get; }

    public string Hold { get; }

    public string[] HoldEnd { get; }

    public string Release { get; }

    public string Flush { get; }

    public string RefreshDue { get; }

    public string BounceAttempts { get; }

    public string Bounce { get; }

    public string[] BounceEnd { get; }

    public string DeleteCount { get; }

    public string Delete { get; }

    public string ReadMessage { get; }

    public string ReadPage { get; }

    public string ReadPendingPage { get; }

    public string ReadRecipients { get; }

    public string ReadAttempts { get; }

    public string[] Statistics { get; }

    public string TakeToken { get; }

    public string EnsureSlots { get; }

    public string TakeSlot { get; }

    public string ReleaseSlot { get; }

    private static string[] SplitStatements(string script)
        => script.Split(';', System.StringSplitOptions.RemoveEmptyEntries | System.StringSplitOptions.TrimEntries);

    private static string Value(QueueRecipientState state) => ((int)state).ToString(CultureInfo.InvariantCulture);
}
