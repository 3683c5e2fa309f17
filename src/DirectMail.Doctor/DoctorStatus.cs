namespace DirectMail.Doctor;

/// <summary>The verdict of one check. In the JSON of <c>directmail doctor --json</c>: <c>"pass"</c>, <c>"warn"</c>, <c>"fail"</c>, <c>"skipped"</c>.</summary>
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
