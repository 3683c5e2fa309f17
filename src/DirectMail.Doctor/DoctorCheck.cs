using System;
using System.Collections.Generic;

namespace DirectMail.Doctor;

/// <summary>One line of the checklist: what was checked, the verdict, what was found and how to fix it.</summary>
public sealed class DoctorCheck
{
    /// <summary>Creates a check result.</summary>
    /// <param name="id">The stable identifier, such as <see cref="DoctorCheckIds.Spf"/>; see <see cref="Id"/>.</param>
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
    /// <c>fcrdns</c>, <c>helo</c>, <c>port25</c> (the constants of <see cref="DoctorCheckIds"/>).
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
    public override string ToString() => $"[{Label(Status)}] {Title}: {Found}";

    private static string Label(DoctorStatus status) => status switch
    {
        DoctorStatus.Pass => "pass",
        DoctorStatus.Warn => "warn",
        DoctorStatus.Fail => "FAIL",
        _ => "skip",
    };
}
