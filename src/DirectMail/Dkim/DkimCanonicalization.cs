namespace DirectMail.Dkim;

/// <summary>A DKIM canonicalisation algorithm (RFC 6376 section 3.4), chosen separately for the header and the body.</summary>
public enum DkimCanonicalization
{
    /// <summary>
    /// <c>relaxed</c>: tolerates the rewriting that mail servers commonly do (header names lower-cased, folding undone,
    /// runs of white space reduced to one space, white space at line ends removed). The default, and what large
    /// receivers recommend.
    /// </summary>
    Relaxed = 0,

    /// <summary><c>simple</c>: tolerates almost nothing (only empty lines at the end of the body): any change breaks the signature.</summary>
    Simple = 1,
}
