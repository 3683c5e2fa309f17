using System;
using System.Collections.Generic;
using System.Linq;

namespace DirectMail.Doctor;

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
    public string Domain { get; }

    /// <summary>True when no check failed: everything receivers need is in place (warnings and skipped checks allowed). The CLI exits 0 when true, 1 otherwise.</summary>
    public bool IsReady => Checks.All(c => c.Status != DoctorStatus.Fail);

    /// <summary>The checks, in order: mx, spf, dkim (one per selector checked), dmarc, alignment, ptr, fcrdns, helo, port25.</summary>
    public IReadOnlyList<DoctorCheck> Checks { get; }

    /// <summary>The check with identifier <paramref name="id"/> (one of <see cref="DoctorCheckIds"/>), or null.</summary>
    public DoctorCheck? Find(string id) => Checks.FirstOrDefault(c => c.Id == id);

    /// <inheritdoc />
    public override string ToString()
    {
        var failed = Checks.Count(c => c.Status == DoctorStatus.Fail);
        var warned = Checks.Count(c => c.Status == DoctorStatus.Warn);
        return $"{Domain}: {(IsReady ? "ready" : "not ready")}, {Checks.Count} check(s), {failed} failed, {warned} warning(s)";
    }
}
