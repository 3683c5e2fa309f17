namespace DirectMail.Security.MtaSts;

/// <summary>A queue store that also keeps the mailer's MTA-STS policies (the SQLite store does, in <c>mta-sts.db</c>).</summary>
internal interface IMtaStsPolicyStoreSource
{
    /// <summary>The policies' store.</summary>
    IMtaStsPolicyStore MtaStsPolicies { get; }
}
