using System;

namespace DirectMail.Smtp;

/// <summary>
/// Carries a failure from deep in the I/O or content code to the public method of <see cref="SmtpSession"/> that
/// reports it as a result. Never leaves the session: the connection is closed by the time it is thrown.
/// </summary>
internal sealed class SmtpFailureException : Exception
{
    public SmtpFailureException(SmtpFailure failure)
        : base(failure.Message, failure.Exception)
    {
        Failure = failure;
    }

    public SmtpFailure Failure { get; }
}
