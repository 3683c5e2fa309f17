using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dkim;
using DirectMail.Dkim.Ed25519;
using DirectMail.Mime;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.Cli;

/// <summary><c>directmail send</c>: delivers a message for real through <see cref="DirectMailer"/>, the IDirectMailer applications use.</summary>
internal static class SendCommand
{
    private static readonly Option<string> From = new("--from", "-f") { Description = "The sender: address or \"Name <address>\"; the envelope sender (MAIL FROM) and the From header.", Required = true, HelpName = "ADDR" };
    private static readonly Option<string[]> To = new("--to", "-t") { Description = "A recipient (To header and RCPT TO); repeat for several.", HelpName = "ADDR" };
    private static readonly Option<string[]> Cc = new("--cc") { Description = "A copy recipient (Cc header and RCPT TO); repeat for several.", HelpName = "ADDR" };
    private static readonly Option<string[]> Bcc = new("--bcc") { Description = "A blind copy recipient (RCPT TO only); repeat for several.", HelpName = "ADDR" };
    private static readonly Option<string> Subject = new("--subject") { Description = "The subject.", HelpName = "TEXT" };
    private static readonly Option<string> Text = new("--text") { Description = "The plain-text body.", HelpName = "TEXT" };
    private static readonly Option<FileInfo> TextFile = new("--text-file") { Description = "Read the plain-text body from a file (UTF-8); - reads the standard input.", HelpName = "FILE" };
    private static readonly Option<FileInfo> HtmlFile = new("--html-file") { Description = "Read an HTML body from a file (UTF-8; - reads the standard input); with a text body, both are sent (multipart/alternative).", HelpName = "FILE" };
    private static readonly Option<FileInfo[]> Attach = new("--attach") { Description = "Attach a file; repeat for several.", HelpName = "FILE" };
    private static readonly Option<FileInfo> Eml = new("--eml") { Description = "Send this message file (RFC 5322, .eml) as it is, with the envelope from --from/--to/--cc/--bcc; its headers are not read or changed. - reads it from the standard input.", HelpName = "FILE" };
    private static readonly Option<bool> Trace = new("--trace") { Description = "Print the SMTP conversation line by line (S: server, C: client), under the host and address it is with; AUTH secrets are masked." };
    private static readonly Option<FileInfo> DkimKey = new("--dkim-key") { Description = "Sign with DKIM using this private key (PEM, RSA or Ed25519, as 'directmail dkim keygen' writes it); needs --dkim-selector.", HelpName = "FILE" };
    private static readonly Option<string> DkimSelector = new("--dkim-selector") { Description = "The DKIM selector (s=) whose TXT record SELECTOR._domainkey.DOMAIN publishes the key; needs --dkim-key.", HelpName = "S" };
    private static readonly Option<string> DkimDomain = new("--dkim-domain") { Description = "The DKIM signing domain (d=); default: the domain of --from. For DMARC it must be the From domain or a parent of it.", HelpName = "DOMAIN" };
    private static readonly Option<string[]> Header = new("--header") { Description = "Add a header field to the message, \"Name: value\" (X-Campaign: spring); repeat for several. Not the fields directmail writes itself (From, To, Subject, Date, Message-ID, MIME-Version, Content-*...); a name is printable ASCII without ':' or space, and neither holds a line break.", HelpName = "\"NAME: VALUE\"" };
    private static readonly Option<string> Server = new("--server") { Description = "Deliver every recipient's mail to this host, with no MX lookup: HOST, HOST:PORT or [IPv6]:PORT (port default --port, 25). A name is resolved through --dns when given, else the system's resolver; its addresses may be private (no --allow-private-targets needed).", HelpName = "HOST[:PORT]" };
    private static readonly Option<string> QuitAfter = new("--quit-after") { Description = "Probe without sending: talk to the server mail would go to (--server, the first --relay host, or the recipients' MX) up to this step, print each reply, and QUIT (after connect, just close). connect, greeting, ehlo, tls, auth, mail or rcpt. The exit code is the last reply's: 0 for 2xx/3xx, 75 for 4xx or no answer, 69 for 5xx (rcpt: the worst recipient's). The message is built and checked, never sent.", HelpName = "STEP" };
    private static readonly Option<string> Notify = new("--notify") { Description = "Ask the receiving servers for delivery status notifications (DSN, RFC 3461) for every recipient: never, or a comma list of success, failure, delay. Sent only to servers that offer DSN.", HelpName = "WHEN" };
    private static readonly Option<string> Ret = new("--ret") { Description = "What a failure notification returns of the message (DSN RET): full or hdrs.", HelpName = "full|hdrs" };
    private static readonly Option<bool> RequireTls = new("--require-tls") { Description = "REQUIRETLS (RFC 8689): deliver only to MX hosts authenticated by DANE or MTA-STS, or with --relay to a relay whose certificate is validated (the system's authorities or --relay-certificate), that offer REQUIRETLS; fail at once (5.7.30) when none does." };
    private static readonly Option<string> EnvId = new("--envid") { Description = "The envelope id (DSN ENVID) notifications carry back, to match them to this message: printable ASCII, at most 100 characters once encoded.", HelpName = "ID" };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the delivery report as JSON (the trace, if any, goes to stderr)." };

    public static Command Create()
    {
        var delivery = new DeliveryOptions();
        var maxAge = Durations.Option("--max-age", "With --queue: give the undelivered recipients up (expired) once the message is this old, for example 2h or 3d (default 5d).");
        var queue = QueueStore.Option("Keep the message in the queue STORE instead of sending it now, and print its queue id; 'directmail queue run' delivers it.");
        QuitAfter.AcceptOnlyFromAmong(Probe.Steps);
        Header.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (ParseHeader(token.Value).Error is { } error)
                {
                    result.AddError(error);
                }
            }
        });
        var command = new Command("send", "Deliver a message straight to each recipient's MX servers (or to one host: --server; or through a relay: --relay), and report what every server answered; or probe without sending (--quit-after).")
        {
            From, To, Cc, Bcc, Subject, Text, TextFile, HtmlFile, Attach, Eml, Header, Server, QuitAfter,
        };
        delivery.AddTo(command);
        Ret.AcceptOnlyFromAmong("full", "hdrs");
        Notify.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (ParseNotify(token.Value).Error is { } error)
                {
                    result.AddError(error);
                }
            }
        });
        foreach (var option in (Option[])[DkimKey, DkimSelector, DkimDomain, Notify, Ret, EnvId, RequireTls, queue, maxAge, Trace, Json])
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(To) is not { Length: > 0 } && result.GetValue(Cc) is not { Length: > 0 } && result.GetValue(Bcc) is not { Length: > 0 })
            {
                result.AddError("send needs at least one recipient: --to, --cc or --bcc.");
            }

            if (result.GetValue(Text) is not null && result.GetValue(TextFile) is not null)
            {
                result.AddError("--text and --text-file both give the text body: use one.");
            }

            if (result.GetValue(Eml) is not null
                && (result.GetValue(Subject) is not null || result.GetValue(Text) is not null || result.GetValue(TextFile) is not null
                    || result.GetValue(HtmlFile) is not null || result.GetValue(Attach) is { Length: > 0 } || result.GetValue(Header) is { Length: > 0 }))
            {
                result.AddError("--eml sends a message file as it is: --subject, --text, --text-file, --html-file, --attach and --header cannot be used with it.");
            }

            if ((InputFiles.IsStandardInput(result.GetValue(Eml)) ? 1 : 0) + (InputFiles.IsStandardInput(result.GetValue(TextFile)) ? 1 : 0) + (InputFiles.IsStandardInput(result.GetValue(HtmlFile)) ? 1 : 0) > 1)
            {
                result.AddError("the standard input (-) can be read once: give it to one of --eml, --text-file and --html-file.");
            }

            if (result.GetValue(Server) is { } server)
            {
                if (ServerTarget.Parse(server) is not { } parsed)
                {
                    result.AddError($"--server '{server}' is not HOST, HOST:PORT or [IPv6]:PORT.");
                }
                else if (parsed.Port is not null && result.GetResult(delivery.Port) is { Implicit: false })
                {
                    result.AddError("--server HOST:PORT names the port already: leave --port out.");
                }

                if (result.GetValue(delivery.Relay) is { Length: > 0 })
                {
                    result.AddError("--server and --relay both say where mail goes: use one.");
                }

                if (result.GetValue(queue) is not null)
                {
                    result.AddError("--server applies when sending now; queued mail is delivered by 'directmail queue run' with its own delivery options.");
                }
            }

            // The raw token: a value outside the allowed ones is the option's own error, and reading it would throw.
            if (result.GetResult(QuitAfter) is { Tokens: [var stepToken, ..] } && Probe.Steps.Contains(stepToken.Value))
            {
                var step = stepToken.Value;
                if (result.GetValue(queue) is not null)
                {
                    result.AddError("--quit-after probes a server now, and --queue sends later: use one.");
                }

                var relay = result.GetValue(delivery.Relay) is { Length: > 0 };
                if (step == "tls" && !relay && result.GetResult(delivery.Tls) is { Tokens: [{ Value: "none" }, ..] })
                {
                    result.AddError("--quit-after tls needs TLS: not with --tls none.");
                }

                if (result.GetResult(delivery.Retries) is { Implicit: false })
                {
                    result.AddError("--retries applies to sending: --quit-after makes one conversation.");
                }

                if (step == "auth" && result.GetValue(delivery.AuthUser) is null)
                {
                    result.AddError("--quit-after auth needs credentials: --relay with --auth-user and its secret.");
                }
            }

            if ((result.GetValue(DkimKey) is null) != (result.GetValue(DkimSelector) is null))
            {
                result.AddError("--dkim-key and --dkim-selector go together: the key signs, the selector names where its public half is published.");
            }
            else if (result.GetValue(DkimDomain) is not null && result.GetValue(DkimKey) is null)
            {
                result.AddError("--dkim-domain needs --dkim-key and --dkim-selector.");
            }

            if (result.GetValue(queue) is null && result.GetValue(maxAge) is not null)
            {
                result.AddError("--max-age is the age at which a queued message is given up: it needs --queue.");
            }

            if (result.GetValue(queue) is not null)
            {
                foreach (var option in delivery.All.Concat(delivery.RelayOptions))
                {
                    if (result.GetResult(option) is { Implicit: false })
                    {
                        result.AddError($"{option.Name} applies when sending now; queued mail is delivered by 'directmail queue run' with its own delivery options.");
                    }
                }
            }

            if (result.GetValue(queue) is not null && result.GetValue(Trace))
            {
                result.AddError("--trace shows a conversation, and --queue has none: 'directmail queue run' delivers (-v shows its log).");
            }
        });

        command.SetAction((parse, cancellationToken) => RunAsync(parse, delivery, queue, maxAge, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, DeliveryOptions delivery, Option<string?> queue, Option<TimeSpan?> maxAge, CancellationToken cancellationToken)
    {
        var json = parse.GetValue(Json);
        var trace = parse.GetValue(Trace);
        var verbose = parse.GetValue(Options.Verbose);
        var queueDirectory = parse.GetValue(queue);

        // Queued, the message is delivered later by 'queue run' with its own delivery options: only a DKIM key is needed now.
        var options = queueDirectory is null ? delivery.Create(parse) : new DirectMailOptions();
        var server = parse.GetValue(Server) is { } serverText ? ServerTarget.Create(serverText, parse.GetValue(delivery.Dns), options.AddressFamilyPreference) : null;
        if (server is not null)
        {
            // The user named the host: its address may be private (a lab, a container, a test server).
            options.Port = server.Port ?? options.Port;
            options.AllowPrivateTargets = true;
        }

        // The addresses and files are checked before anything is sent: a mistake is one line and exit code 65.
        var from = ParseAddress("--from", parse.GetRequiredValue(From));
        var to = ParseAddresses("--to", parse.GetValue(To));
        var cc = ParseAddresses("--cc", parse.GetValue(Cc));
        var bcc = ParseAddresses("--bcc", parse.GetValue(Bcc));

        // DKIM: the key is read and checked before anything is sent.
        using var signer = ConfigureDkim(parse, options, from, signNow: queueDirectory is not null);

        SmtpEnvelope envelope;
        SmtpContent content;
        if (parse.GetValue(Eml) is { } eml)
        {
            InputFiles.RequireReadable("--eml", eml);
            envelope = new SmtpEnvelope(from.Address, to.Concat(cc).Concat(bcc).Select(a => a.Address));
            try
            {
                content = InputFiles.IsStandardInput(eml) ? SmtpContent.FromBytes(InputFiles.ReadStandardInput()) : SmtpContent.FromFile(eml.FullName);
            }
            catch (ArgumentException e)
            {
                throw CliException.Input($"--eml '{eml}': {CliException.Reason(e)}", e);
            }
        }
        else
        {
            // What the library refuses in a header (a control character in the subject or a file name: header
            // injection) is wrong input, exit 65, as an address is.
            var message = new EmailMessage { From = from };
            try
            {
                message.Subject = parse.GetValue(Subject);
            }
            catch (ArgumentException e)
            {
                throw CliException.Input($"--subject: {CliException.Reason(e)}", e);
            }

            foreach (var header in parse.GetValue(Header) ?? [])
            {
                message.Headers.Add(ParseHeader(header).Header!);
            }

            AddAll(message.To, to);
            AddAll(message.Cc, cc);
            AddAll(message.Bcc, bcc);
            message.TextBody = parse.GetValue(Text);
            if (parse.GetValue(TextFile) is { } textFile)
            {
                message.TextBody = InputFiles.ReadText("--text-file", textFile);
            }

            if (parse.GetValue(HtmlFile) is { } htmlFile)
            {
                message.HtmlBody = InputFiles.ReadText("--html-file", htmlFile);
            }

            if (message.TextBody is null && message.HtmlBody is null)
            {
                message.TextBody = string.Empty;
            }

            foreach (var file in parse.GetValue(Attach) ?? [])
            {
                InputFiles.RequireReadable("--attach", file);
                try
                {
                    message.Attachments.Add(Attachment.FromFile(file.FullName));
                }
                catch (ArgumentException e)
                {
                    throw CliException.Input($"--attach '{file}': {CliException.Reason(e)}", e);
                }
            }

            envelope = message.CreateEnvelope();
            content = message.ToSmtpContent();
        }

        envelope = WithDsn(parse, envelope);
        if (signer is not null)
        {
            content = signer.Sign(content);
        }

        if (queueDirectory is not null)
        {
            var queueOptions = new MailQueueOptions { MaxAge = parse.GetValue(maxAge) ?? new MailQueueOptions().MaxAge };
            return await EnqueueAsync(queueDirectory, queueOptions, envelope, content, json, verbose, cancellationToken).ConfigureAwait(false);
        }

        if (parse.GetValue(QuitAfter) is { } quitAfter)
        {
            using var probeLog = new ConsoleLog(trace ? (json ? Console.Error : Console.Out) : null, verbose ? Console.Error : null);
            using var probeLoggerFactory = probeLog.CreateFactory();
            return await Probe.RunAsync(quitAfter, options, server, parse.GetValue(delivery.Dns), envelope, json, probeLoggerFactory, cancellationToken).ConfigureAwait(false);
        }

        // Long work shows progress on a terminal: several domains, or a large message. The trace is progress enough.
        var domains = Enumerable.Range(0, envelope.Recipients.Count).Select(envelope.GetRecipientDomain).Distinct().Count();
        var large = content.GetLength(SmtpCapabilities.Minimal) is > 1024 * 1024;
        using var progress = (domains > 1 || large) && !(trace && !json) ? Progress.TryCreate(domains) : null;
        if (progress is not null)
        {
            content = new ProgressContent(content, progress);
        }

        using var log = new ConsoleLog(trace ? (json ? Console.Error : Console.Out) : null, verbose ? Console.Error : null);
        if (progress is not null)
        {
            log.BeforeWrite = progress.Clear;
        }

        using var loggerFactory = log.CreateFactory();
        DeliveryReport report;
        await using (var mailer = new DirectMailer(options, server, loggerFactory))
        {
            try
            {
                report = await mailer.SendAsync(envelope, content, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (DeliveryCanceledException e)
            {
                progress?.Clear();
                Console.Error.WriteLine("directmail: canceled; what was done by then:");
                Describe.PrintText(e.Report, Console.Error);
                return ExitCodes.Canceled;
            }
        }

        progress?.Clear();
        if (json)
        {
            Describe.PrintJson(report, Console.Out);
        }
        else
        {
            if (trace)
            {
                Console.Out.WriteLine();
            }

            Describe.PrintText(report, Console.Out);
        }

        return Describe.ExitCode(report);
    }

    private static async Task<int> EnqueueAsync(string queueStore, MailQueueOptions queueOptions, SmtpEnvelope envelope, SmtpContent content, bool json, bool verbose, CancellationToken cancellationToken)
    {
        using var log = new ConsoleLog(null, verbose ? Console.Error : null);
        using var loggerFactory = log.CreateFactory();
        await using var store = QueueStore.Open(queueStore, create: true, loggerFactory, queueOptions, withSuppression: true);
        string id;
        try
        {
            id = await store.Queue.EnqueueAsync(envelope, content, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpContentException e)
        {
            throw CliException.Input("the message cannot be sent: " + CliException.Reason(e), e);
        }

        // A recipient on the suppression list is kept Failed from its enqueue, never sent: say so, with the reason.
        var failed = new List<QueueEnqueuedFailureJson>();
        if (await store.Queue.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } queued)
        {
            foreach (var recipient in queued.Recipients)
            {
                if (recipient.State == QueueRecipientState.Failed)
                {
                    failed.Add(new QueueEnqueuedFailureJson { Address = recipient.Address, Reply = recipient.Attempts.Count > 0 ? recipient.Attempts[^1].Reply ?? recipient.Attempts[^1].Detail : null });
                }
            }
        }

        if (json)
        {
            var recipients = new List<string>(envelope.Recipients.Count);
            for (var i = 0; i < envelope.Recipients.Count; i++)
            {
                recipients.Add(envelope.Recipients[i]);
            }

            QueueDescribe.PrintJson(new QueueEnqueuedJson { QueueId = id, Recipients = recipients, Failed = failed }, CliJsonContext.Readable.QueueEnqueuedJson, Console.Out);
        }
        else
        {
            Console.Out.WriteLine(id);
            foreach (var f in failed)
            {
                Console.Error.WriteLine(Display.Line($"directmail: {f.Address}: not queued for delivery: {f.Reply ?? "failed at enqueue"}"));
            }
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// Adds the --dkim-key to the mailer's keys (DirectMail:Dkim), which sign mail of the From domain. A --dkim-domain
    /// other than the --from domain (a parent domain, a service's own domain) is not chosen by the mailer's keyring, which
    /// picks keys by the From and envelope sender domains: that signer is returned, to sign the content itself.
    /// </summary>
    private static DkimSigner? ConfigureDkim(ParseResult parse, DirectMailOptions options, EmailAddress from, bool signNow)
    {
        if (parse.GetValue(DkimKey) is not { } keyFile)
        {
            return null;
        }

        InputFiles.RequireReadable("--dkim-key", keyFile);
        var dkim = new DkimSignerOptions
        {
            Domain = parse.GetValue(DkimDomain) ?? from.Domain,
            Selector = parse.GetRequiredValue(DkimSelector),
            PrivateKeyFile = keyFile.FullName,
        };

        // An Ed25519 key (as 'dkim keygen --algorithm ed25519' writes it) signs ed25519-sha256 (RFC 8463); any other
        // key is read as RSA, which names what is wrong with it.
        if (IsEd25519Key(keyFile))
        {
            dkim.UseAlgorithm(DkimEd25519.Algorithm);
        }

        DkimSigner signer;
        try
        {
            signer = new DkimSigner(dkim);
        }
        catch (ArgumentException e)
        {
            var reason = CliException.Reason(e);
            var prefix = $"DirectMail:Dkim entry for '{dkim.Domain}': ";
            reason = reason.StartsWith(prefix, StringComparison.Ordinal) ? reason[prefix.Length..] : reason;
            var option = e.ParamName switch
            {
                nameof(DkimSignerOptions.Selector) => "--dkim-selector",
                "domain" or nameof(DkimSignerOptions.Domain) => "--dkim-domain",
                _ => $"--dkim-key '{keyFile}'",
            };
            throw CliException.Input($"{option}: {reason}", e);
        }

        // The From domain is in A-labels without the root dot already (EmailAddress); the signer's is lower case too.
        // Queued (signNow), the signer is returned in every case: the worker of 'queue run' signs nothing, so the
        // message is stored signed.
        if (!signNow && string.Equals(signer.Domain, from.Domain, StringComparison.OrdinalIgnoreCase))
        {
            signer.Dispose();
            options.Dkim.Add(dkim);
            return null;
        }

        return signer;
    }

    private static bool IsEd25519Key(FileInfo keyFile)
    {
        try
        {
            DkimEd25519.PublicKey(File.ReadAllText(keyFile.FullName));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The envelope with the DSN parameters of --notify (every recipient), --ret and --envid, and --require-tls; as it is without them.</summary>
    private static SmtpEnvelope WithDsn(ParseResult parse, SmtpEnvelope envelope)
    {
        var notify = parse.GetValue(Notify) is { } text ? ParseNotify(text).Value : DsnNotify.Default;
        DsnReturn? ret = parse.GetValue(Ret) switch
        {
            "full" => DsnReturn.Full,
            "hdrs" => DsnReturn.Headers,
            _ => null,
        };
        var envelopeId = parse.GetValue(EnvId);
        var requireTls = parse.GetValue(RequireTls);
        if (notify == DsnNotify.Default && ret is null && envelopeId is null && !requireTls)
        {
            return envelope;
        }

        var recipients = new SmtpRecipient[envelope.Recipients.Count];
        for (var i = 0; i < recipients.Length; i++)
        {
            recipients[i] = new SmtpRecipient(envelope.Recipients[i], notify);
        }

        try
        {
            return new SmtpEnvelope(envelope.Sender, recipients) { DsnReturn = ret, DsnEnvelopeId = envelopeId, RequireTls = requireTls };
        }
        catch (ArgumentException e)
        {
            throw CliException.Input($"--envid: {CliException.Reason(e)}", e);
        }
    }

    /// <summary>--notify's value as flags: never, or a comma list of success, failure and delay; or why it is not one.</summary>
    private static (DsnNotify Value, string? Error) ParseNotify(string text)
    {
        var value = DsnNotify.Default;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            value |= part.ToLowerInvariant() switch
            {
                "never" => DsnNotify.Never,
                "success" => DsnNotify.Success,
                "failure" => DsnNotify.Failure,
                "delay" => DsnNotify.Delay,
                _ => (DsnNotify)(-1),
            };
            if ((int)value < 0)
            {
                return (DsnNotify.Default, $"--notify '{text}': not never, or a comma list of success, failure and delay.");
            }
        }

        if ((value & DsnNotify.Never) != 0 && value != DsnNotify.Never)
        {
            return (DsnNotify.Default, $"--notify '{text}': never stands alone (RFC 3461).");
        }

        return value == DsnNotify.Default ? (DsnNotify.Default, $"--notify '{text}': name when to notify.") : (value, null);
    }

    /// <summary>"Name: value" as a header field (the value without the spaces after the colon), or why it is not one.</summary>
    private static (EmailHeader? Header, string? Error) ParseHeader(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return (null, $"--header '{Display.Line(text)}' is not \"Name: value\".");
        }

        try
        {
            return (new EmailHeader(text[..colon], text[(colon + 1)..].TrimStart(' ', '\t')), null);
        }
        catch (ArgumentException e)
        {
            return (null, $"--header '{Display.Line(text)}': {Display.Line(CliException.Reason(e))}");
        }
    }

    private static EmailAddress ParseAddress(string option, string text)
    {
        try
        {
            return EmailAddress.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw CliException.Input($"{option} '{text}' is not a valid address: {CliException.Reason(e)}", e);
        }
    }

    private static List<EmailAddress> ParseAddresses(string option, string[]? texts) =>
        (texts ?? []).Select(t => ParseAddress(option, t)).ToList();

    private static void AddAll(EmailAddressCollection collection, List<EmailAddress> addresses)
    {
        foreach (var address in addresses)
        {
            collection.Add(address);
        }
    }
}
