using System;

namespace DirectMail.Security.MtaSts;

/// <summary>A policy as an <see cref="IMtaStsPolicyStore"/> keeps it: its text (parsed again when loaded), the TXT id it was fetched for, and when it was fetched and expires.</summary>
internal sealed record StoredMtaStsPolicy(string Domain, string Id, string Text, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt);
