using System;
using System.Collections.Immutable;

namespace DirectMail.Security.TlsRpt;

/// <summary>Everything counted for one policy domain on one UTC day: the content of one report.</summary>
/// <param name="Day">The UTC day.</param>
/// <param name="PolicyDomain">The domain (lower case).</param>
/// <param name="Policies">Its policies' counts.</param>
internal sealed record TlsReportDomainDay(DateOnly Day, string PolicyDomain, ImmutableArray<TlsReportPolicy> Policies);
