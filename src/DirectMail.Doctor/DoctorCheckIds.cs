namespace DirectMail.Doctor;

/// <summary>
/// The stable identifiers of the checks (<see cref="DoctorCheck.Id"/>), in the order a <see cref="DoctorReport"/> lists
/// them. Scripts reading <c>directmail doctor --json</c> match on these strings; <see cref="DoctorReport.Find"/> takes them.
/// </summary>
public static class DoctorCheckIds
{
    /// <summary><c>mx</c>: the envelope sender's domain receives mail (bounces).</summary>
    public const string Mx = "mx";

    /// <summary><c>spf</c>: the SPF record of the envelope sender's domain authorises the sending address.</summary>
    public const string Spf = "spf";

    /// <summary><c>dkim</c>: the DKIM key (RSA or Ed25519) is published at the selector and matches the private key, when given; one check per selector.</summary>
    public const string Dkim = "dkim";

    /// <summary><c>dmarc</c>: the sending domain publishes a DMARC policy.</summary>
    public const string Dmarc = "dmarc";

    /// <summary><c>alignment</c>: SPF or DKIM aligns with the From domain, as DMARC requires.</summary>
    public const string Alignment = "alignment";

    /// <summary><c>ptr</c>: the sending address has a reverse DNS name.</summary>
    public const string Ptr = "ptr";

    /// <summary><c>fcrdns</c>: the reverse DNS name resolves back to the sending address (forward-confirmed).</summary>
    public const string Fcrdns = "fcrdns";

    /// <summary><c>helo</c>: the EHLO name is a valid, fully qualified host name that fits the sending address.</summary>
    public const string Helo = "helo";

    /// <summary><c>port25</c>: this network can open outbound connections on port 25 (opt-in).</summary>
    public const string Port25 = "port25";
}
