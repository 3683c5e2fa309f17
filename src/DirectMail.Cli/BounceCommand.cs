using System;
using System.CommandLine;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Suppression;

namespace DirectMail.Cli;

/// <summary><c>directmail bounce parse|ingest</c>: read a bounce that came back, and feed the suppression list with it.</summary>
internal static class BounceCommand
{
    public static Command Create() => new("bounce", "Bounces that come back after a server accepted a message: read them, and suppress the recipients that hard-bounced.")
    {
        Parse(),
        Ingest(),
    };

    private static Command Parse()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The received message (.eml); - for the standard input." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("parse", "Read a bounce (RFC 3464 DSN, or the Exchange, Gmail, Postfix, Exim and qmail text forms): its kind, ids and each recipient classified.") { file, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var report = await ReadAsync(parse.GetRequiredValue(file), cancellationToken).ConfigureAwait(false);
            Print(report, null, parse.GetValue(json));
            return report.Kind == BounceKind.NotABounce ? ExitCodes.NotReady : ExitCodes.Success;
        });
        return command;
    }

    private static Command Ingest()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The received message (.eml); - for the standard input." };
        var queue = QueueStore.Option("The queue to correlate the bounce with, whose suppression list is fed.", required: true);
        var recipient = new Option<string?>("--envelope-recipient") { Description = "The address the bounce was received for (RCPT TO: the VERP address); default: its To.", HelpName = "ADDRESS" };
        var prefix = new Option<string>("--verp-prefix") { Description = "The VERP prefix the mail was sent with (DirectMail:Verp:Prefix).", DefaultValueFactory = _ => "bounces" };
        var strict = new Option<bool>("--require-correlation") { Description = "Suppress only recipients of a message the queue holds (a forged bounce suppresses nobody)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("ingest", "Read a bounce, correlate it with the queued message (VERP address, ENVID) and add each hard-bounced recipient to the suppression list.") { file, queue, recipient, prefix, strict, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var report = await ReadAsync(parse.GetRequiredValue(file), cancellationToken).ConfigureAwait(false);
            var store = parse.GetRequiredValue(queue)!;
            await using var queued = QueueStore.Open(store, create: false);
            await using var stores = SuppressionStores.Open(store, create: false);
            var ingester = new BounceIngester(stores.Store, queued.Queue) { VerpPrefix = parse.GetRequiredValue(prefix), RequireCorrelation = parse.GetValue(strict) };
            var result = await ingester.IngestAsync(report, parse.GetValue(recipient), cancellationToken).ConfigureAwait(false);
            Print(report, result, parse.GetValue(json));
            return report.Kind == BounceKind.NotABounce ? ExitCodes.NotReady : ExitCodes.Success;
        });
        return command;
    }

    private static async Task<BounceReport> ReadAsync(FileInfo file, CancellationToken cancellationToken)
    {
        try
        {
            if (InputFiles.IsStandardInput(file))
            {
                return BounceParser.Parse(InputFiles.ReadStandardInput());
            }

            InputFiles.RequireReadable("FILE", file);
            await using var stream = file.OpenRead();
            return await BounceParser.ParseAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (BounceParseException e)
        {
            throw CliException.Input($"FILE '{file}': {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Input($"FILE '{file}': cannot read the file: {InputFiles.Unreadable(e)}", e);
        }
    }

    private static void Print(BounceReport report, BounceIngestResult? result, bool json)
    {
        if (json)
        {
            Console.Out.WriteLine(Json(report, result));
            return;
        }

        Console.Out.WriteLine(Display.Line($"{Kind(report.Kind)}{(report.EnvelopeId is null ? string.Empty : ", envelope id " + report.EnvelopeId)}{(report.OriginalMessageId is null ? string.Empty : ", message <" + report.OriginalMessageId + ">")}{(result?.QueueId is null ? string.Empty : ", queued message " + result.QueueId)}"));
        for (var i = 0; i < report.Recipients.Count; i++)
        {
            var r = report.Recipients[i];
            var done = result is null ? string.Empty : result.Recipients[i].Suppressed ? "  suppressed" : "  not suppressed";
            Console.Out.WriteLine(Display.Line($"  {r.Address}  {r.Action.ToString().ToLowerInvariant()}  {r.Status?.ToString() ?? "-"}  {r.Classification}{(r.IsHardBounce ? " (hard)" : string.Empty)}{done}{(r.Diagnostic is null ? string.Empty : "  " + r.Diagnostic)}"));
        }
    }

    private static string Kind(BounceKind kind) => kind switch
    {
        BounceKind.Dsn => "Delivery status notification",
        BounceKind.NonStandard => "Text bounce",
        _ => "Not a bounce",
    };

    private static string Json(BounceReport report, BounceIngestResult? result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", JsonSchema.Version);
            json.WriteString("kind", report.Kind switch { BounceKind.Dsn => "dsn", BounceKind.NonStandard => "text", _ => "not-a-bounce" });
            json.WriteString("envelopeId", report.EnvelopeId);
            json.WriteString("originalMessageId", report.OriginalMessageId);
            json.WriteString("reportingMta", report.ReportingMta);
            json.WriteString("to", report.To);
            if (result is not null)
            {
                json.WriteString("queueId", result.QueueId);
                json.WriteString("verpRecipient", result.VerpRecipient);
                json.WriteNumber("suppressed", result.SuppressedCount);
            }

            json.WriteBoolean("recipientsTruncated", report.RecipientsTruncated);
            json.WriteStartArray("recipients");
            for (var i = 0; i < report.Recipients.Count; i++)
            {
                var r = report.Recipients[i];
                json.WriteStartObject();
                json.WriteString("address", r.Address);
                json.WriteString("originalRecipient", r.OriginalRecipient);
                json.WriteString("action", r.Action.ToString().ToLowerInvariant());
                json.WriteString("status", r.Status?.ToString());
                json.WriteString("classification", r.Classification.ToString());
                json.WriteBoolean("hardBounce", r.IsHardBounce);
                json.WriteString("remoteMta", r.RemoteMta);
                json.WriteString("diagnostic", r.Diagnostic);
                if (result is not null)
                {
                    json.WriteString("sentTo", result.Recipients[i].Address);
                    if (result.Recipients[i].RecipientIndex is { } index)
                    {
                        json.WriteNumber("recipientIndex", index);
                    }

                    json.WriteBoolean("suppressed", result.Recipients[i].Suppressed);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Display.Json(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
