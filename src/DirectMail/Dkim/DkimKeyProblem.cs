namespace DirectMail.Dkim;

/// <summary>What is wrong with a DKIM private key (<see cref="DkimKeyException.Problem"/>).</summary>
public enum DkimKeyProblem
{
    /// <summary>The text is not PEM, or its PEM label is not one of a private key (an encrypted key, a certificate, a public key).</summary>
    NotPem,

    /// <summary>The PEM holds a key of another kind than the algorithm signs with (an Ed25519 key for <c>rsa-sha256</c>, an RSA key for <c>ed25519-sha256</c>, an EC or X25519 key).</summary>
    WrongKind,

    /// <summary>The key is of the right kind but of a size DKIM does not allow (RSA: 1024 to 4096 bits).</summary>
    WrongSize,

    /// <summary>The PEM's content cannot be read as a key (damaged or truncated).</summary>
    Unreadable,
}
