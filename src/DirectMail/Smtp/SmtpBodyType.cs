namespace DirectMail.Smtp;

/// <summary>What kind of octets a message's content holds (RFC 6152).</summary>
public enum SmtpBodyType
{
    /// <summary>Only octets 1 to 127, in lines of at most 998 octets: any server takes it.</summary>
    SevenBit = 0,

    /// <summary>Octets above 127 too: needs a server offering 8BITMIME, and is declared with <c>BODY=8BITMIME</c>.</summary>
    EightBit = 1,
}
