namespace DirectMail.Security.MtaSts;

/// <summary>The outcome of one policy fetch (<see cref="MtaStsPolicyFetcher"/>): the policy, or the TLS-RPT failure and why.</summary>
internal readonly record struct MtaStsFetchResult(MtaStsPolicy? Policy, TlsFailureType? Failure, string? Detail)
{
    public static MtaStsFetchResult Failed(TlsFailureType failure, string detail) => new(null, failure, detail);
}
