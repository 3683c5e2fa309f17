using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dkim;
using DirectMail.Mime;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.Cli;

/// <summary><c>directmail send</c>: delivers a message for real through <see cref="DirectMailer"/>, the IDirectMailer applications use.</summary>
internal static class SendCommand
{
    private static readonly Option<string> From = new("--from") { Description = "The sender: address or \"Name <address>\"; the envelope sender (MAIL FROM) and the From header.", Required = true, HelpName = "ADDR" };
    private static readonly Option<string[]> To = new("--to") { Description = "A recipient (To header and RCPT TO); repeat for several.", HelpName = "ADDR" };
    private static readonly Option<string[]> Cc = new("--cc") { Description = "A copy recipient (Cc header and RCPT TO); repeat for several.", HelpName = "ADDR" };
    private static readonly Option<string[]> Bcc = new("--bcc") { Description = "A blind copy recipient (RCPT TO only); repeat for several.", HelpName = "ADDR" };
    private static readonly Option<string> Subject = new("--subject") { Description = "The subject.", HelpName = "TEXT" };
    private static readonly Option<string> Text = new("--text") { Description = "The plain-text body.", HelpName = "TEXT" };
    private static readonly Option<FileInfo> TextFile = new("--text-file") { Description = "Read the plain-text body from a file (UTF-8).", HelpName = "FILE" };
    private static readonly Option<FileInfo> HtmlFile = new("--html-file") { Description = "Read an HTML body from a file (UTF-8); with a text body, both are sent (multipart/alternative).", HelpName = "FILE" };
    private static readonly Option<FileInfo[]> Attach = new("--attach") { Description = "Attach a file; repeat for several.", HelpName = "FILE" };
    private static readonly Option<FileInfo> Eml = new("--eml") { Description = "Send this message file (RFC 5322, .eml) as it is, with the envelope from --from/--to/--cc/--bcc; its headers are not read or changed.", HelpName = "FILE" };
    private static readonly Option<bool> Trace = new("--trace") { Description = "Print the SMTP conversation line by line (S: server, C: client), under the host and address it is with; AUTH secrets are masked." };
    private static readonly Option<FileInfo> DkimKey = new("--dkim-key") { Description = "Sign with DKIM using this private key (PEM, as 'directmail dkim keygen' writes it); needs --dkim-selector.", HelpName = "FILE" };
    private static readonly Option<string> DkimSelector = new("--dkim-selector") { Description = "The DKIM selector (s=) whose TXT record SELECTOR._domainkey.DOMAIN publishes the key; needs --dkim-key.", HelpName = "S" };
    private static readonly Option<string> DkimDomain = new("--dkim-domain") { Description = "The DKIM signing domain (d=); default: the domain of --from. For DMARC it must be the From domain or a parent of it.", HelpName = "DOMAIN" };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the delivery report as JSON (the trace, if any, goes to stderr)." };

    public static Command Create()
    {
        var delivery = new DeliveryOptions();
        var maxAge = Durations.Option("--max-age", "With --queue: give the undelivered recipients up (expired) once the message is this old, for example 2h or 3d (default 5d).");
        var queue = QueueStore.Option("Keep the message in the queue STORE instead of sending it now, and print its queue id; 'directmail queue run' delivers it.");
        var command = new Command("send", "Deliver a message straight to each recipient's MX servers (or through a relay: --relay), and report what every server answered.")
        {
            From, To, Cc, Bcc, Subject, Text, TextFile, HtmlFile, Attach, Eml,
        };
        foreach (var option in delivery.All)
        {
            command.Options.Add(option);
        }

        foreach (var option in delivery.RelayOptions)
        {
            command.Options.Add(option);
        }

        foreach (var option in (Option[])[DkimKey, DkimSelector, DkimDomain, queue, maxAge, Trace, Json])
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
                    || result.GetValue(HtmlFile) is not null || result.GetValue(Attach) is { Length: > 0 }))
            {
                result.AddError("--eml sends a message file as it is: --subject, --text, --text-file, --html-file and --attach cannot be used with it.");
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

            delivery.ValidateRelay(result);
            if (result.GetValue(queue) is not null && result.GetValue(delivery.Relay) is { Length: > 0 })
            {
                result.AddError("--relay applies when sending now; queued mail is delivered by 'directmail queue run' with its own delivery options.");
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
                content = SmtpContent.FromFile(eml.FullName);
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

        if (signer is not null)
        {
            content = signer.Sign(content);
        }

        if (queueDirectory is not null)
        {
            var queueOptions = new MailQueueOptions { MaxAge = parse.GetValue(maxAge) ?? new MailQueueOptions().MaxAge };
            return await EnqueueAsync(queueDirectory, queueOptions, envelope, content, json, verbose, cancellationToken).ConfigureAwait(false);
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
        await using (var mailer = new DirectMailer(options, loggerFactory: loggerFactory))
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
        await using var store = QueueStore.Open(queueStore, create: true, loggerFactory, queueOptions);
        string id;
        try
        {
            id = await store.Queue.EnqueueAsync(envelope, content, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpContentException e)
        {
            throw CliException.Input("the message cannot be sent: " + CliException.Reason(e), e);
        }

        if (json)
        {
            var recipients = new List<string>(envelope.Recipients.Count);
            for (var i = 0; i < envelope.Recipients.Count; i++)
            {
                recipients.Add(envelope.Recipients[i]);
            }

            QueueDescribe.PrintJson(new QueueEnqueuedJson { QueueId = id, Recipients = recipients }, CliJsonContext.Readable.QueueEnqueuedJson, Console.Out);
        }
        else
        {
            Console.Out.WriteLine(id);
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
