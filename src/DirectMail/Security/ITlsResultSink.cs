namespace DirectMail.Security;

/// <summary>
/// Where the delivery path reports each TLS session result (TLS-RPT's input). Called on the delivery path: an
/// implementation must be cheap and must not throw or block.
/// </summary>
internal interface ITlsResultSink
{
    /// <summary>Records one result.</summary>
    void Record(in TlsSessionResult result);
}
