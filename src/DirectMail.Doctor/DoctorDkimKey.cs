using System;

namespace DirectMail.Doctor;

/// <summary>
/// A further DKIM selector of the domain to check (<see cref="DoctorRequest.AdditionalDkimKeys"/>), with the private
/// key that signs with it: for example the Ed25519 key (RFC 8463) beside the RSA key of <see cref="DoctorRequest.DkimSelector"/>.
/// Each selector is checked and reported on its own.
/// </summary>
public sealed class DoctorDkimKey
{
    /// <summary>Describes a selector to check.</summary>
    /// <param name="selector">The selector: the key record is looked up at <c>SELECTOR._domainkey.DOMAIN</c>.</param>
    /// <param name="privateKeyPem">The private key in PEM that signs with it (RSA, or Ed25519 PKCS#8), to check that the published key is its public half; null checks the published record only.</param>
    public DoctorDkimKey(string selector, string? privateKeyPem = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        Selector = selector;
        PrivateKeyPem = privateKeyPem;
    }

    /// <summary>The selector.</summary>
    public string Selector { get; }

    /// <summary>The private key in PEM; null when only the published record is checked. Not stored or logged.</summary>
    public string? PrivateKeyPem { get; }

    /// <inheritdoc />
    public override string ToString() => Selector;
}
