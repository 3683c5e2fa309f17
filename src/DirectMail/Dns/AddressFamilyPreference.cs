namespace DirectMail.Dns;

/// <summary>Which address families of an MX host are used, and which first.</summary>
public enum AddressFamilyPreference
{
    /// <summary>
    /// IPv4 addresses first, then IPv6 (the default). Many receivers reject or score down IPv6 senders without
    /// matching reverse DNS, which is rarer to have right on IPv6, so IPv4 is the safer first try.
    /// </summary>
    PreferIPv4 = 0,

    /// <summary>IPv6 addresses first, then IPv4.</summary>
    PreferIPv6,

    /// <summary>IPv4 addresses only; AAAA records are not queried.</summary>
    IPv4Only,

    /// <summary>IPv6 addresses only; A records are not queried.</summary>
    IPv6Only,
}
