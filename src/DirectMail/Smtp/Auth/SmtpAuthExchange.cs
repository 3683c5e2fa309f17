using System;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// SMTP AUTH (RFC 4954) for one session, after EHLO and TLS: refuses to send anything unless TLS with a validated
/// certificate protects the connection, picks the mechanism, runs the SASL exchange and, for a token the server
/// refused as expired, asks the provider once for a fresh one and tries again. The transcript shows every step with
/// the secrets masked.
/// </summary>
internal sealed class SmtpAuthExchange(SmtpConnection connection, SmtpSessionOptions options, ILogger logger)
{
    /// <summary>The password mechanisms from the strongest: SCRAM proves the server, PLAIN is one round trip, LOGIN is the last resort.</summary>
    private static readonly SmtpAuthMechanism[] PasswordPreference = [SmtpAuthMechanism.ScramSha256, SmtpAuthMechanism.ScramSha1, SmtpAuthMechanism.Plain, SmtpAuthMechanism.Login];

    /// <summary>The token mechanisms: the standard one first.</summary>
    private static readonly SmtpAuthMechanism[] TokenPreference = [SmtpAuthMechanism.OAuthBearer, SmtpAuthMechanism.XOAuth2];

    /// <summary>The mechanism used, once authenticated.</summary>
    public SmtpAuthMechanism? Mechanism { get; private set; }

    /// <summary>Authenticates; null on success, otherwise the typed reason (the caller closes the connection).</summary>
    public async ValueTask<SmtpFailure?> RunAsync(SmtpCapabilities capabilities, bool tlsValidated)
    {
        connection.Phase = SmtpPhase.Authenticate;
        var credentials = options.Credentials!;
        var server = connection.ServerName;
        if (!tlsValidated)
        {
            return Unavailable($"The credentials were not sent: the connection to {server} is not protected by TLS with a validated certificate.");
        }

        if (!capabilities.Keywords.TryGetValue("AUTH", out var offered))
        {
            return Unavailable($"{server} does not offer AUTH; with credentials configured nothing is sent unauthenticated.");
        }

        if (Choose(offered, credentials, options.AuthMechanism) is not { } mechanism)
        {
            var wanted = options.AuthMechanism is { } pinned ? SaslMechanism.WireName(pinned) : credentials.IsOAuth ? "OAUTHBEARER or XOAUTH2" : "SCRAM-SHA-256, SCRAM-SHA-1, PLAIN or LOGIN";
            return Unavailable($"{server} offers AUTH {offered}, not {wanted}.");
        }

        var refreshed = false;
        while (true)
        {
            string? token = null;
            if (credentials.TokenProvider is { } provider)
            {
                try
                {
                    token = await provider(credentials.UserName, refreshed, connection.OperationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !connection.OperationToken.IsCancellationRequested)
                {
                    return Unavailable($"The OAuth token provider failed: {e.Message}", e);
                }

                if (string.IsNullOrEmpty(token))
                {
                    return Unavailable("The OAuth token provider gave no token.");
                }
            }

            var sasl = SaslMechanism.Create(mechanism, credentials, token);
            var (failure, tokenRejected) = await ExchangeAsync(sasl).ConfigureAwait(false);
            if (failure is null)
            {
                Mechanism = mechanism;
                if (logger.IsEnabled(LogLevel.Debug))
                {
                    SmtpSessionLog.Authenticated(logger, server, credentials.UserName, sasl.Name);
                }

                return null;
            }

            if (!tokenRejected || refreshed || connection.IsClosed)
            {
                return failure;
            }

            // One refresh: a token that expired between the provider's cache and the server is the common case.
            SmtpSessionLog.TokenRefused(logger, server, credentials.UserName);
            refreshed = true;
        }
    }

    /// <summary>The pinned mechanism when the server offers it, otherwise the strongest offered one that suits the credentials.</summary>
    internal static SmtpAuthMechanism? Choose(string offered, SmtpCredentials credentials, SmtpAuthMechanism? pinned)
    {
        var names = offered.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (pinned is { } mechanism)
        {
            return Offers(names, mechanism) && IsOAuth(mechanism) == credentials.IsOAuth ? mechanism : null;
        }

        foreach (var candidate in credentials.IsOAuth ? TokenPreference : PasswordPreference)
        {
            if (Offers(names, candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    internal static bool IsOAuth(SmtpAuthMechanism mechanism) => mechanism is SmtpAuthMechanism.XOAuth2 or SmtpAuthMechanism.OAuthBearer;

    private static bool Offers(string[] names, SmtpAuthMechanism mechanism)
    {
        var wire = SaslMechanism.WireName(mechanism);
        foreach (var name in names)
        {
            if (string.Equals(name, wire, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One AUTH command and its challenges; the failure (null on 235) and whether the server refused the token as expired.</summary>
    private async ValueTask<(SmtpFailure? Failure, bool TokenRejected)> ExchangeAsync(SaslMechanism sasl)
    {
        var server = connection.ServerName;
        var timeout = options.Timeouts.Command;
        byte[]? initial;
        try
        {
            initial = sasl.HasInitialResponse ? sasl.Respond([]) : null;
        }
        catch (ArgumentException e)
        {
            return (Unavailable(e.Message, e), false);
        }

        // RFC 4954 section 4: an empty initial response is sent as "=".
        var argument = initial is null ? null : initial.Length == 0 ? "=" : Convert.ToBase64String(initial);
        // Written unlogged (the line holds the secret) into the empty buffer: the session pipelines nothing with AUTH.
        if (connection.WriteBuffer.Length - connection.WriteLength < (argument?.Length ?? 0) + 64)
        {
            return (Unavailable($"The {sasl.Name} initial response ({argument!.Length} octets) does not fit in one command line."), false);
        }

        connection.AppendCommand("AUTH " + sasl.Name, argument is null ? null : " " + argument, null, log: false);
        Trace(initial is null ? "AUTH " + sasl.Name : "AUTH " + sasl.Name + " " + sasl.TraceText);
        await connection.FlushAsync(timeout).ConfigureAwait(false);
        while (true)
        {
            var reply = await connection.ReadReplyAsync(timeout).ConfigureAwait(false);
            if (reply.Code == 235)
            {
                if (!sasl.IsServerAuthenticated)
                {
                    // A SCRAM server that says yes without proving it knows the password is not the server configured.
                    return (new SmtpFailure(SmtpFailureKind.CredentialsRejected, SmtpPhase.Authenticate, $"{server} accepted {sasl.Name} without proving it knows the password (no server signature); the connection is closed.", reply), false);
                }

                return (null, false);
            }

            if (reply.Code != 334)
            {
                return (Refused(reply, sasl.Name), sasl.TokenRejected);
            }

            byte[] response;
            try
            {
                var challenge = Convert.FromBase64String(reply.Lines.Count > 0 ? reply.Lines[0].Trim() : string.Empty);
                response = sasl.Respond(challenge);
            }
            catch (Exception e) when (e is FormatException or SaslException)
            {
                // RFC 4954 section 4: "*" cancels the exchange; the server answers 501 and the session is closed after it.
                connection.AppendCommand("*", null, null);
                await connection.FlushAsync(timeout).ConfigureAwait(false);
                await connection.ReadReplyAsync(timeout).ConfigureAwait(false);
                var message = e is FormatException ? $"{server} sent a {sasl.Name} challenge that is not base64." : e.Message;
                return (new SmtpFailure(SmtpFailureKind.CredentialsRejected, SmtpPhase.Authenticate, message, reply, e), false);
            }

            if (connection.WriteBuffer.Length - connection.WriteLength < (response.Length * 4 / 3) + 64)
            {
                return (Unavailable($"The {sasl.Name} response ({response.Length} octets) does not fit in one command line."), false);
            }

            connection.AppendCommand(response.Length == 0 ? string.Empty : Convert.ToBase64String(response), null, null, log: false);
            Trace(sasl.TraceText);
            await connection.FlushAsync(timeout).ConfigureAwait(false);
        }
    }

    private void Trace(string line)
    {
        if (logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(logger, line);
        }
    }

    private SmtpFailure Refused(SmtpReply reply, string mechanism)
    {
        var server = connection.ServerName;
        return reply.IsTransientNegative
            ? new SmtpFailure(SmtpFailureKind.AuthenticationDeferred, SmtpPhase.Authenticate, $"{server} could not authenticate {options.Credentials!.UserName} with {mechanism} now; try again later.", reply)
            : new SmtpFailure(SmtpFailureKind.CredentialsRejected, SmtpPhase.Authenticate, $"{server} refused the credentials of {options.Credentials!.UserName} ({mechanism}).", reply);
    }

    private static SmtpFailure Unavailable(string message, Exception? exception = null) =>
        new(SmtpFailureKind.AuthenticationUnavailable, SmtpPhase.Authenticate, message, exception: exception);
}
