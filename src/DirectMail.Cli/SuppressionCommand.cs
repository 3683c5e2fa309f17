using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Suppression;

namespace DirectMail.Cli;

/// <summary><c>directmail suppression list|add|remove</c>: the recipients not mailed again, kept beside the queue.</summary>
internal static class SuppressionCommand
{
    private const string StoreDescription = "The queue whose suppression list it is.";

    public static Command Create() => new("suppression", "The suppression list: recipients that hard-bounced or were added by hand, failed at once by the mailer and the queue until removed.")
    {
        List(),
        Add(),
        Remove(),
    };

    private static Command List()
    {
        var queue = QueueStore.Option(StoreDescription, required: true);
        var json = new Option<bool>("--json") { Description = "Print the entries as JSON." };
        var command = new Command("list", "List the suppressed recipients in address order, with why, when and from which message.") { queue, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var stores = SuppressionStores.Open(parse.GetRequiredValue(queue)!, create: false);
            var entries = new List<SuppressedRecipient>();
            string? after = null;
            while (true)
            {
                var page = 0;
                await foreach (var entry in stores.Store.ListAsync(after, 500, cancellationToken).ConfigureAwait(false))
                {
                    entries.Add(entry);
                    after = entry.Address;
                    page++;
                }

                if (page < 500)
                {
                    break;
                }
            }

            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(EntriesJson(entries));
                return ExitCodes.Success;
            }

            if (entries.Count == 0)
            {
                Console.Out.WriteLine("The suppression list is empty.");
                return ExitCodes.Success;
            }

            foreach (var e in entries)
            {
                Console.Out.WriteLine(Display.Line($"{e.Address}  {Source(e.Source)}  {e.Classification}  {e.Status?.ToString() ?? "-"}  since {e.SuppressedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}{(e.QueueId is null ? string.Empty : "  message " + e.QueueId)}{(e.Diagnostic is null ? string.Empty : "  " + e.Diagnostic)}"));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Add()
    {
        var queue = QueueStore.Option(StoreDescription, required: true);
        var address = new Argument<string>("ADDRESS") { Description = "The recipient address (local-part@domain)." };
        var note = new Option<string?>("--note") { Description = "Why, in words (kept as its diagnostic)." };
        var command = new Command("add", "Suppress a recipient: the mailer and the queue fail it at once, without sending, until it is removed.") { address, queue, note };
        command.SetAction(async (parse, cancellationToken) =>
        {
            SuppressedRecipient entry;
            try
            {
                entry = new SuppressedRecipient(parse.GetRequiredValue(address), SuppressionSource.Manual, DateTimeOffset.UtcNow) { Diagnostic = parse.GetValue(note) is { } n ? SuppressionCheck.OneLine(n) : null };
            }
            catch (ArgumentException e)
            {
                throw CliException.Usage("ADDRESS: " + e.Message);
            }

            await using var stores = SuppressionStores.Open(parse.GetRequiredValue(queue)!, create: true);
            await stores.Store.AddAsync(entry, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(Display.Line($"Suppressed {entry.Address}."));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove()
    {
        var queue = QueueStore.Option(StoreDescription, required: true);
        var address = new Argument<string>("ADDRESS") { Description = "The recipient address." };
        var command = new Command("remove", "Mail a suppressed recipient again: remove it from the list (exit 66 when it was not on it).") { address, queue };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var stores = SuppressionStores.Open(parse.GetRequiredValue(queue)!, create: false);
            bool removed;
            try
            {
                removed = await stores.Store.RemoveAsync(parse.GetRequiredValue(address), cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException e)
            {
                throw CliException.Usage("ADDRESS: " + e.Message);
            }

            if (!removed)
            {
                throw CliException.NotFound(Display.Line($"{parse.GetRequiredValue(address)} is not on the suppression list."));
            }

            Console.Out.WriteLine(Display.Line($"Removed {parse.GetRequiredValue(address)} from the suppression list."));
            return ExitCodes.Success;
        });
        return command;
    }

    internal static string Source(SuppressionSource source) => source switch
    {
        SuppressionSource.Bounce => "bounce",
        SuppressionSource.Refusal => "refusal",
        _ => "manual",
    };

    private static string EntriesJson(List<SuppressedRecipient> entries)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", JsonSchema.Version);
            json.WriteStartArray("entries");
            foreach (var e in entries)
            {
                json.WriteStartObject();
                json.WriteString("address", e.Address);
                json.WriteString("source", Source(e.Source));
                json.WriteString("classification", e.Classification.ToString());
                json.WriteString("status", e.Status?.ToString());
                json.WriteString("diagnostic", e.Diagnostic);
                json.WriteString("suppressedAt", e.SuppressedAt);
                json.WriteString("queueId", e.QueueId);
                json.WriteString("messageId", e.MessageId);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Display.Json(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
