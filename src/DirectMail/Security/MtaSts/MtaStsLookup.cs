namespace DirectMail.Security.MtaSts;

/// <summary>What <see cref="IMtaStsPolicySource"/> found for a domain.</summary>
/// <param name="Policy">The policy in force (cached or just fetched); null when the domain has none available.</param>
/// <param name="Failure">
/// Set when this lookup fetched and the fetch failed (<see cref="TlsFailureType.StsPolicyFetchError"/>,
/// <see cref="TlsFailureType.StsPolicyInvalid"/>, <see cref="TlsFailureType.StsWebPkiInvalid"/>): reported once, by the
/// delivery that saw it. <see cref="Policy"/> may still be set (a cached policy keeps serving).
/// </param>
/// <param name="Detail">What failed, or null.</param>
internal readonly record struct MtaStsLookup(MtaStsPolicy? Policy, TlsFailureType? Failure = null, string? Detail = null)
{
    /// <summary>No policy, nothing to report.</summary>
    public static MtaStsLookup NoPolicy => default;
}
