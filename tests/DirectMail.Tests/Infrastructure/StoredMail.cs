using System.Collections.Generic;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// The suite's one record of a message a server stored with its envelope (aiosmtpd's scripted servers, the in-process
/// SmtpServer): the envelope sender, the recipients in RCPT order and the content as the client sent it, without the
/// dot-stuffing. Postfix's Maildir copies are <see cref="Postfix.StoredMessage"/>, which also keeps the headers Postfix
/// put in front.
/// </summary>
public sealed record StoredMail(string Sender, IReadOnlyList<string> Recipients, byte[] Content);
