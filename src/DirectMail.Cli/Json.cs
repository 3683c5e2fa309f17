using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;
using DirectMail.Doctor;

namespace DirectMail.Cli;

/// <summary>
/// The version of every JSON document directmail writes, its first property <c>"schemaVersion"</c>: raised when a
/// field changes meaning or goes away (new fields do not raise it).
/// </summary>
internal static class JsonSchema
{
    public const int Version = 1;
}

/// <summary>The JSON of <c>directmail doctor --json</c>: the report with the schema version first.</summary>
internal sealed class DoctorJson
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = JsonSchema.Version;

    public required string Domain { get; init; }

    public bool IsReady { get; init; }

    public required IReadOnlyList<DoctorCheck> Checks { get; init; }
}

/// <summary>The JSON of <c>directmail send --json</c>: the delivery report.</summary>
internal sealed class SendJson
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = JsonSchema.Version;

    public required int Delivered { get; init; }

    public required int Deferred { get; init; }

    public required int Failed { get; init; }

    public required long DurationMs { get; init; }

    public required IReadOnlyList<RecipientJson> Recipients { get; init; }

    public required IReadOnlyList<string> Diagnostics { get; init; }
}

/// <summary>One recipient of the report.</summary>
internal sealed class RecipientJson
{
    public required string Address { get; init; }

    /// <summary>delivered, deferred or failed.</summary>
    public required string Status { get; init; }

    public int? ReplyCode { get; init; }

    public string? EnhancedStatusCode { get; init; }

    public string? ReplyText { get; init; }

    /// <summary>True when DirectMail made the reply itself (no such domain, null MX...), no server said it.</summary>
    public bool ReplySynthetic { get; init; }

    public string? MxHost { get; init; }

    /// <summary>direct, relay, fallback-relay or port-blocked-relay: the way of the last attempt (MxHost then names the relay host).</summary>
    public string Route { get; init; } = "direct";

    /// <summary>The receiving server's own queue id from its final reply (a relay's "queued as ..."), when it names one.</summary>
    public string? ServerQueueId { get; init; }

    public string? Ip { get; init; }

    public int Attempts { get; init; }

    public long DurationMs { get; init; }

    public bool PolicyRejection { get; init; }

    public string? Hint { get; init; }

    public string? Detail { get; init; }

    /// <summary>How the last attempt's session was protected; null when no session was established.</summary>
    public TlsPostureJson? Tls { get; init; }

    /// <summary>Why TLS failed on the last attempt, as RFC 8460 names it (certificate-host-mismatch...), or null.</summary>
    public string? TlsFailure { get; init; }
}

/// <summary>A TLS posture: the kind and, when encrypted, the TLS version and cipher suite.</summary>
internal sealed class TlsPostureJson
{
    /// <summary>none, unauthenticated, pkix, mta-sts, dane-ee or dane-ta.</summary>
    public required string Kind { get; init; }

    public string? Protocol { get; init; }

    public string? CipherSuite { get; init; }
}

/// <summary>The JSON of <c>directmail mx --json</c>.</summary>
internal sealed class MxJson
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = JsonSchema.Version;

    public required string Domain { get; init; }

    /// <summary>success, domain-not-found, null-mx, no-usable-targets, invalid-domain or dns-failure.</summary>
    public required string Status { get; init; }

    /// <summary>True for a failure that may pass (dns-failure).</summary>
    public bool Transient { get; init; }

    public required string Message { get; init; }

    public required string Explanation { get; init; }

    public bool ImplicitMx { get; init; }

    public bool AddressLiteral { get; init; }

    public required IReadOnlyList<MxTargetJson> Targets { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }

    public ReplyJson? FailureReply { get; init; }

    /// <summary>With --tls: the domain's transport-security policy and what DirectMail will require of each MX host.</summary>
    public MxTlsJson? Tls { get; init; }
}

/// <summary>The transport security of <c>directmail mx --tls --json</c>.</summary>
internal sealed class MxTlsJson
{
    public required MtaStsJson MtaSts { get; init; }

    /// <summary>DANE (RFC 7672): on or off, and why off.</summary>
    public required DaneJson Dane { get; init; }

    /// <summary>What DirectMail will require of each MX host, in the order they are tried.</summary>
    public required IReadOnlyList<MxTlsHostJson> Hosts { get; init; }
}

/// <summary>The MTA-STS part: the TXT record, the policy fetched (or why not).</summary>
internal sealed class MtaStsJson
{
    /// <summary>False when MTA-STS was not looked up (--no-mta-sts).</summary>
    public bool Enabled { get; init; }

    /// <summary>The _mta-sts TXT record (null when there is none).</summary>
    public string? Record { get; init; }

    public string? Id { get; init; }

    /// <summary>enforce, testing or none; null without a policy.</summary>
    public string? Mode { get; init; }

    public IReadOnlyList<string>? Mx { get; init; }

    public long? MaxAgeSeconds { get; init; }

    /// <summary>The policy fetch's failure, as RFC 8460 names it, or null.</summary>
    public string? Failure { get; init; }

    public string? Detail { get; init; }
}

internal sealed class MxTlsHostJson
{
    public required string Host { get; init; }

    /// <summary>opportunistic, tls-required, authenticated or not-used.</summary>
    public required string Requirement { get; init; }

    /// <summary>sts, tlsa or no-policy-found: the policy the requirement comes from.</summary>
    public required string PolicyType { get; init; }

    /// <summary>The posture a successful session will have (mta-sts, dane-ee...), for an authenticated requirement.</summary>
    public string? Posture { get; init; }

    /// <summary>Why the host is not used, or what an observed (testing) policy will report.</summary>
    public string? Detail { get; init; }

    /// <summary>secure when the MX records and this host's address records were DNSSEC-validated (DANE can apply), else insecure.</summary>
    public string? Dnssec { get; init; }

    /// <summary>not-applicable, usable, none-usable or failed (RFC 7672 section 2.2); null when DANE was not looked at.</summary>
    public string? Dane { get; init; }

    /// <summary>The TLSA base domain the records were found at (the CNAME-expanded host name when there was one).</summary>
    public string? TlsaBaseDomain { get; init; }

    /// <summary>The validated TLSA records, as published, each with why it cannot be used when it cannot.</summary>
    public IReadOnlyList<TlsaRecordJson>? Tlsa { get; init; }

    /// <summary>What the TLSA lookup found, in words.</summary>
    public string? DaneDetail { get; init; }
}

/// <summary>Whether DANE was applied by <c>mx --tls</c>, and why not.</summary>
internal sealed class DaneJson
{
    public bool Enabled { get; init; }

    /// <summary>Why DANE is off (--no-dane, or a resolver whose validation is not believed).</summary>
    public string? Reason { get; init; }

    /// <summary>When DANE is on but the name servers show they do not validate DNSSEC: why it cannot be assessed.</summary>
    public string? NotAssessable { get; set; }
}

/// <summary>One TLSA record: <c>3 1 1 HEX</c>, and whether SMTP may use it.</summary>
internal sealed class TlsaRecordJson
{
    public required string Record { get; init; }

    public bool Usable { get; init; }

    public string? Unusable { get; init; }
}

internal sealed class MxTargetJson
{
    public required string Host { get; init; }

    public int Preference { get; init; }

    public required IReadOnlyList<MxAddressJson> Addresses { get; init; }
}

internal sealed class MxAddressJson
{
    public required string Address { get; init; }

    /// <summary>public, loopback, private, link-local...</summary>
    public required string Scope { get; init; }
}

internal sealed class ReplyJson
{
    public int Code { get; init; }

    public string? EnhancedStatusCode { get; init; }

    public required string Text { get; init; }
}

/// <summary>The JSON of <c>directmail send --quit-after STEP --json</c>: the server talked to and each step's outcome.</summary>
internal sealed class ProbeJson
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = JsonSchema.Version;

    /// <summary>connect, greeting, ehlo, tls, auth, mail or rcpt.</summary>
    public required string QuitAfter { get; init; }

    /// <summary>The host connected to (the MX, --server or relay host); null when no connection was made.</summary>
    public string? Server { get; init; }

    /// <summary>Its address and port.</summary>
    public string? Address { get; init; }

    public required IReadOnlyList<ProbeStepJson> Steps { get; init; }
}

/// <summary>One step of a probe: its reply, or what happened (a failed connection, the TLS version, the mechanism authenticated with).</summary>
internal sealed class ProbeStepJson
{
    public required string Step { get; init; }

    /// <summary>For rcpt: the recipient.</summary>
    public string? Recipient { get; init; }

    public int? ReplyCode { get; init; }

    public string? EnhancedStatusCode { get; init; }

    /// <summary>The reply's lines (after the code), joined by \n.</summary>
    public string? ReplyText { get; init; }

    public string? Detail { get; init; }
}

/// <summary>The JSON of <c>directmail send --queue DIR --json</c>.</summary>
internal sealed class QueueEnqueuedJson
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = JsonSchema.Version;

    public required string QueueId { get; init; }

    public required IReadOnlyList<string> Recipients { get; init; }

    /// <summary>The recipients failed at enqueue, not queued for delivery (on the suppression list), with why.</summary>
    public IReadOnlyList<QueueEnqueuedFailureJson> Failed { get; init; } = [];
}

/// <summary>One recipient of <c>send --queue</c> that was failed at enqueue.</summary>
internal sealed class QueueEnqueuedFailureJson
{
    public required string Address { get; init; }

    public string? Reply { get; init; }
}

/// <summary>The JSON of <c>directmail queue list --json</c>.</summary>
internal sealed class QueueListJson
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = JsonSchema.Version;

    public required IReadOnlyList<QueueMessageJson> Messages { get; init; }
}

/// <summary>One queued message: <c>directmail queue show --json</c>, and each of <c>queue list --json</c>.</summary>
internal sealed class QueueMessageJson
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = JsonSchema.Version;

    public required string QueueId { get; init; }

    /// <summary>The envelope sender; empty for the null sender.</summary>
    public required string Sender { get; init; }

    public long Size { get; init; }

    public DateTimeOffset EnqueuedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public required IReadOnlyList<QueueRecipientJson> Recipients { get; init; }
}

internal sealed class QueueRecipientJson
{
    public required string Address { get; init; }

    /// <summary>queued, deferred, in-flight, delivered, failed, expired, held or in-doubt.</summary>
    public required string State { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    public required IReadOnlyList<QueueAttemptJson> Attempts { get; init; }
}

internal sealed class QueueAttemptJson
{
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The state the attempt led to (delivered, deferred, failed...).</summary>
    public required string Outcome { get; init; }

    public string? Reply { get; init; }

    public string? MxHost { get; init; }

    public string? ServerAddress { get; init; }

    public string? Detail { get; init; }
}

/// <summary>Source-generated serialization (no reflection: trimming and AOT safe).</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SendJson))]
[JsonSerializable(typeof(MxJson))]
[JsonSerializable(typeof(ProbeJson))]
[JsonSerializable(typeof(DoctorJson))]
[JsonSerializable(typeof(QueueEnqueuedJson))]
[JsonSerializable(typeof(QueueListJson))]
[JsonSerializable(typeof(QueueMessageJson))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>Relaxed escaping: addresses and replies keep their '+', '&lt;' and non-ASCII letters readable.</summary>
    public static CliJsonContext Readable { get; } = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,

        // The doctor's verdicts as scripts match them: "pass", "warn", "fail", "skipped".
        Converters = { new JsonStringEnumConverter<DoctorStatus>(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    });
}
