using System;

namespace DirectMail.Dkim;

/// <summary>
/// A DKIM private key that cannot sign: not PEM, of the wrong kind for its algorithm, of the wrong size, or unreadable.
/// Thrown when the key is read, that is when the signer, the mailer or <see cref="DkimSignerOptions.Validate"/> is made,
/// never while mail is sent. An <see cref="ArgumentException"/> named after <see cref="DkimSignerOptions.PrivateKey"/>.
/// </summary>
public sealed class DkimKeyException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">What is wrong, in a sentence.</param>
    /// <param name="problem">The kind of problem.</param>
    /// <param name="innerException">The error of the cryptography library, if any.</param>
    public DkimKeyException(string reason, DkimKeyProblem problem, Exception? innerException = null)
        : base(reason, nameof(DkimSignerOptions.PrivateKey), innerException)
    {
        Reason = reason;
        Problem = problem;
    }

    /// <summary>What is wrong, without the parameter name that <see cref="ArgumentException.Message"/> appends.</summary>
    public string Reason { get; }

    /// <summary>The kind of problem.</summary>
    public DkimKeyProblem Problem { get; }
}
