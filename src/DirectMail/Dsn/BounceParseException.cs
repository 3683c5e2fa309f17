using System;

namespace DirectMail.Dsn;

/// <summary>
/// A received message <see cref="BounceParser"/> refuses to read: larger than <see cref="BounceParser.MaxMessageSize"/>.
/// Anything smaller, however broken, gives a <see cref="BounceReport"/>.
/// </summary>
public sealed class BounceParseException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BounceParseException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was wrong.</param>
    public BounceParseException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The cause.</param>
    public BounceParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
