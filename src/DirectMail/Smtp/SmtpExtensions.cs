using System;

namespace DirectMail.Smtp;

/// <summary>The SMTP service extensions DirectMail acts on, as a server announces them in its EHLO reply.</summary>
[Flags]
public enum SmtpExtensions
{
    /// <summary>None: the server answered HELO, or announced nothing DirectMail knows.</summary>
    None = 0,

    /// <summary>PIPELINING (RFC 2920): commands may be sent in groups without waiting for each reply.</summary>
    Pipelining = 1 << 0,

    /// <summary>SIZE (RFC 1870): the server takes a <c>SIZE=</c> declaration and may announce a limit.</summary>
    Size = 1 << 1,

    /// <summary>8BITMIME (RFC 6152): message content may hold octets above 127.</summary>
    EightBitMime = 1 << 2,

    /// <summary>SMTPUTF8 (RFC 6531): addresses and headers may be UTF-8.</summary>
    SmtpUtf8 = 1 << 3,

    /// <summary>ENHANCEDSTATUSCODES (RFC 2034): replies start with an RFC 3463 status code.</summary>
    EnhancedStatusCodes = 1 << 4,

    /// <summary>STARTTLS (RFC 3207): the connection can be upgraded to TLS.</summary>
    StartTls = 1 << 5,

    /// <summary>CHUNKING (RFC 3030): content may be sent with BDAT instead of DATA.</summary>
    Chunking = 1 << 6,

    /// <summary>DSN (RFC 3461): delivery status notification parameters are understood.</summary>
    Dsn = 1 << 7,

    /// <summary>BINARYMIME (RFC 3030): binary content may be sent with BDAT.</summary>
    BinaryMime = 1 << 8,

    /// <summary>REQUIRETLS (RFC 8689): the server takes messages that must travel only over authenticated TLS.</summary>
    RequireTls = 1 << 9,
}
