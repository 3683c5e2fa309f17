using System;

namespace DirectMail.Smtp.Auth;

/// <summary>A server's challenge that the mechanism does not allow; the exchange is cancelled (<c>*</c>) and the connection closed.</summary>
internal sealed class SaslException(string message) : Exception(message);
