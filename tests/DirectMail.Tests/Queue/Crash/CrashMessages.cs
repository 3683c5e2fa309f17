using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace DirectMail.Tests.Queue.Crash;

/// <summary>One message of a crash run: its number, recipients, exact content, and the queue id EnqueueAsync returned.</summary>
internal sealed class CrashMessage(int number, IReadOnlyList<string> recipients, byte[] content)
{
    public int Number { get; } = number;

    public IReadOnlyList<string> Recipients { get; } = recipients;

    public byte[] Content { get; } = content;

    public string QueueId { get; set; } = string.Empty;
}

/// <summary>
/// The messages of a crash run, made from its seed: 1 to 3 recipients over the given domains (a message whose
/// recipients are in two domains is two transactions), mostly a few KB with now and then one of 70-200 KB (several of
/// the barrier's 64 KiB chunks), lines that start with a dot (dot-stuffing), and a Message-ID that names the run and
/// the message, by which every copy a server stored is counted.
/// </summary>
internal sealed class CrashMessages
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,;:!?-";

    public CrashMessages(Random random, string runId, int count, IReadOnlyList<string> domains)
    {
        RunId = runId;
        var all = new List<CrashMessage>(count);
        for (var n = 0; n < count; n++)
        {
            var roll = random.Next(100);
            var recipients = new string[roll < 70 ? 1 : roll < 90 ? 2 : 3];
            for (var k = 0; k < recipients.Length; k++)
            {
                recipients[k] = $"m{n}r{k}@{domains[random.Next(domains.Count)]}";
            }

            var size = random.Next(40) == 0 ? random.Next(70_000, 200_000) : random.Next(300, 6_000);
            all.Add(new CrashMessage(n, recipients, Content(random, n, recipients[0], size)));
        }

        All = all;
    }

    public string RunId { get; }

    public IReadOnlyList<CrashMessage> All { get; }

    /// <summary>The message number in a stored copy's Message-ID, or null when the copy is not of this run.</summary>
    public int? NumberOf(byte[] content)
    {
        var text = Encoding.ASCII.GetString(content, 0, Math.Min(content.Length, 4096));
        var marker = "\r\nMessage-ID: <";
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var start = at + marker.Length;
        var end = text.IndexOf('>', start);
        var id = end < 0 ? string.Empty : text[start..end];
        var dot = id.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && id[(dot + 1)..] == RunId + "@crash.test" && int.TryParse(id.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < All.Count
            ? n
            : null;
    }

    private byte[] Content(Random random, int n, string to, int size)
    {
        var text = new StringBuilder(size + 200);
        text.Append("From: sender@crash.test\r\n")
            .Append("To: ").Append(to).Append("\r\n")
            .Append("Subject: crash run message ").Append(n.ToString(CultureInfo.InvariantCulture)).Append("\r\n")
            .Append("Message-ID: <").Append(n.ToString(CultureInfo.InvariantCulture)).Append('.').Append(RunId).Append("@crash.test>\r\n")
            .Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
        while (text.Length < size)
        {
            if (random.Next(15) == 0)
            {
                text.Append('.');
            }

            var length = random.Next(0, 120);
            for (var i = 0; i < length; i++)
            {
                text.Append(Alphabet[random.Next(Alphabet.Length)]);
            }

            text.Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
