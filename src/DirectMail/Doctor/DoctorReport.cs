using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DirectMail.Doctor;

/// <summary>The verdict of one check. In JSON: <c>"pass"</c>, <c>"warn"</c>, <c>"fail"</c>, <c>"skipped"</c>.</summary>
[JsonConverter(typeof(DoctorStatusJsonConverter))]
public enum DoctorStatus
{
    /// <summary>In place.</summary>
    Pass = 0,

    /// <summary>Works, but some receivers will score it down or it will break in some cases; <see cref="DoctorCheck.Fix"/> says what to improve. Does not affect <see cref="DoctorReport.IsReady"/>.</summary>
    Warn,

    /// <summary>Missing or wrong: receivers will reject or junk the mail, or the check could not be made (a DNS failure). Makes <see cref="DoctorReport.IsReady"/> false.</summary>
    Fail,

    /// <summary>Not checked: the request lacks what the check needs (no sending address, no selector, no opt-in).</summary>
    Skipped,
}

/// <summary>One line of the checklist: what was checked, the verdict, what was found and how to fix it.</summary>
public sealed class DoctorCheck
{
    /// <summary>Creates a check result.</summary>
    /// <param name="id">The stable identifier, such as <c>spf</c>; see <see cref="Id"/>.</param>
    /// <param name="title">The human name, such as <c>SPF</c>.</param>
    /// <param name="status">The verdict.</param>
    /// <param name="found">What was found, one sentence.</param>
    /// <param name="fix">How to fix it; null when there is nothing to do.</param>
    /// <param name="details">Supporting lines (the SPF evaluation trace); null for none.</param>
    public DoctorCheck(string id, string title, DoctorStatus status, string found, string? fix = null, IReadOnlyList<string>? details = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(title);
        ArgumentNullException.ThrowIfNull(found);
        Id = id;
        Title = title;
        Status = status;
        Found = found;
        Fix = fix;
        Details = details ?? Array.Empty<string>();
    }

    /// <summary>
    /// The stable identifier, for scripts: <c>mx</c>, <c>spf</c>, <c>dkim</c>, <c>dmarc</c>, <c>alignment</c>, <c>ptr</c>,
    /// <c>fcrdns</c>, <c>helo</c>, <c>port25</c>.
    /// </summary>
    public string Id { get; }

    /// <summary>The human name of the check, such as <c>Reverse DNS (PTR)</c>.</summary>
    public string Title { get; }

    /// <summary>The verdict.</summary>
    public DoctorStatus Status { get; }

    /// <summary>What was found, one sentence, with the records involved.</summary>
    public string Found { get; }

    /// <summary>What to do about it (the record to publish, the setting to change); null when nothing needs doing.</summary>
    public string? Fix { get; }

    /// <summary>Supporting lines, such as the SPF evaluation trace; empty when there are none.</summary>
    public IReadOnlyList<string> Details { get; }

    /// <inheritdoc />
    public override string ToString() => $"[{DoctorReport.Label(Status)}] {Title}: {Found}";
}

/// <summary>The checklist for one sending domain, as <see cref="SenderDoctor.CheckAsync"/> returns it.</summary>
public sealed class DoctorReport
{
    /// <summary>Creates a report from its checks.</summary>
    /// <param name="domain">The sending domain checked.</param>
    /// <param name="checks">The checks, in the order to print them.</param>
    public DoctorReport(string domain, IReadOnlyList<DoctorCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(checks);
        Domain = domain;
        Checks = checks.ToArray();
    }

    /// <summary>The sending domain checked, in A-label form.</summary>
    [JsonPropertyOrder(0)]
    public string Domain { get; }

    /// <summary>True when no check failed: everything receivers need is in place (warnings and skipped checks allowed). The CLI exits 0 when true, 1 otherwise.</summary>
    [JsonPropertyOrder(1)]
    public bool IsReady => Checks.All(c => c.Status != DoctorStatus.Fail);

    /// <summary>The checks, in order: mx, spf, dkim, dmarc, alignment, ptr, fcrdns, helo, port25.</summary>
    [JsonPropertyOrder(2)]
    public IReadOnlyList<DoctorCheck> Checks { get; }

    /// <summary>The check with identifier <paramref name="id"/>, or null.</summary>
    public DoctorCheck? Find(string id) => Checks.FirstOrDefault(c => c.Id == id);

    /// <summary>
    /// The checklist as text: one line per check (<c>[pass]</c>, <c>[warn]</c>, <c>[FAIL]</c>, <c>[skip]</c>, the title and
    /// what was found), a <c>fix:</c> line under each check that has one, and a last line with the verdict. Lines end in
    /// <c>\n</c>.
    /// </summary>
    /// <param name="details">Also print each check's <see cref="DoctorCheck.Details"/>, indented.</param>
    public string ToText(bool details = false)
    {
        var text = new StringBuilder();
        text.Append("directmail doctor: ").Append(Domain).Append('\n');
        var width = Checks.Count == 0 ? 0 : Checks.Max(c => c.Title.Length);
        foreach (var check in Checks)
        {
            text.Append('[').Append(Label(check.Status)).Append("] ").Append(check.Title.PadRight(width)).Append("  ").Append(check.Found).Append('\n');
            var indent = new string(' ', 9 + width);
            if (check.Fix is not null)
            {
                text.Append(indent).Append("fix: ").Append(check.Fix).Append('\n');
            }

            if (details)
            {
                foreach (var line in check.Details)
                {
                    text.Append(indent).Append("  ").Append(line).Append('\n');
                }
            }
        }

        var failed = Checks.Count(c => c.Status == DoctorStatus.Fail);
        var warned = Checks.Count(c => c.Status == DoctorStatus.Warn);
        text.Append(IsReady
            ? $"Ready to send{(warned > 0 ? $", with {warned} warning(s)" : string.Empty)}.\n"
            : $"Not ready: {failed} check(s) failed{(warned > 0 ? $", {warned} warning(s)" : string.Empty)}.\n");
        return text.ToString();
    }

    /// <summary>
    /// The report as JSON: <c>{"domain", "isReady", "checks": [{"id", "title", "status", "found", "fix", "details"}]}</c>,
    /// status in lower case. Uses source-generated serialisation (trimming- and AOT-safe).
    /// </summary>
    /// <param name="indented">Indent the JSON (default true).</param>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? DoctorJsonContext.Indented.DoctorReport : DoctorJsonContext.Compact.DoctorReport);

    /// <inheritdoc />
    public override string ToString() => ToText();

    internal static string Label(DoctorStatus status) => status switch
    {
        DoctorStatus.Pass => "pass",
        DoctorStatus.Warn => "warn",
        DoctorStatus.Fail => "FAIL",
        _ => "skip",
    };
}

/// <summary>Writes <see cref="DoctorStatus"/> as lower-case strings.</summary>
internal sealed class DoctorStatusJsonConverter : JsonStringEnumConverter<DoctorStatus>
{
    public DoctorStatusJsonConverter()
        : base(JsonNamingPolicy.CamelCase, allowIntegerValues: false)
    {
    }
}

[JsonSerializable(typeof(DoctorReport))]
internal sealed partial class DoctorJsonContext : JsonSerializerContext
{
    // The report goes to terminals and files, never into HTML: quotes and apostrophes in records stay readable.
    public static DoctorJsonContext Compact { get; } = new(CreateOptions(indented: false));

    public static DoctorJsonContext Indented { get; } = new(CreateOptions(indented: true));

    private static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = indented,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
