using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Delivery;

/// <summary>Options, messages, server dialogues and report checks shared by the delivery tests.</summary>
public static class DeliveryTestKit
{
    public const string Sender = "sender@client.deliver.test";

    public const string Queued = "2.0.0 Ok: queued as 4XyZ";

    /// <summary>
    /// A mailer that asks only the delivery NSD, connects to port 10025, may connect to loopback targets, and uses short
    /// timeouts and no retry unless a test asks for them (every test stays within seconds).
    /// </summary>
    public static DirectMailOptions Options(Action<DirectMailOptions>? configure = null)
    {
        var options = new DirectMailOptions
        {
            HeloName = "client.deliver.test",
            Port = TestAddresses.Delivery.Port,
            NameServers = [DeliveryDnsFixture.NameServer],
            AllowPrivateTargets = true,
            TlsMode = SmtpTlsMode.Opportunistic,
            MaxRetryAttempts = 0,
            RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            SendTimeout = TimeSpan.FromSeconds(20),
        };
        TestTimeouts.SetAll(options.Timeouts, TimeSpan.FromSeconds(2));
        configure?.Invoke(options);
        return options;
    }

    public static DirectMailer NewMailer(Action<DirectMailOptions>? configure = null) => new(Options(configure));

    /// <summary>A message whose content checks dot-stuffing (a line starting with a dot) and has a unique Message-ID.</summary>
    public static byte[] Message(string subject, string? id = null) => Encoding.ASCII.GetBytes(
        "From: Sender <" + Sender + ">\r\n" +
        "To: undisclosed-recipients:;\r\n" +
        "Subject: " + subject + "\r\n" +
        "Message-ID: <" + (id ?? Guid.NewGuid().ToString("N")) + "@client.deliver.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=us-ascii\r\n" +
        "\r\n" +
        "Hello.\r\n" +
        ".a line that starts with a dot\r\n" +
        "..and one with two\r\n" +
        "Bye.\r\n");

    public const string UnknownUserReply = "550 5.1.1 <{0}>: Recipient address rejected: User unknown in virtual mailbox table";

    public const string TemporaryReply = "451 4.3.0 <{0}>: Temporary lookup failure";

    /// <summary>
    /// A Postfix-like server that refuses RCPT of local parts starting with "unknown" (550 5.1.1) and defers those
    /// starting with "busy" (451 4.3.0), as a real server with a user table and a flaky lookup does.
    /// </summary>
    public static SmtpDialogue MixedRecipientsDialogue() => Postfix(line =>
        {
            if (!line.StartsWith("RCPT TO:<", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            var address = RcptAddress(line);
            if (address.StartsWith("unknown", StringComparison.Ordinal))
            {
                return string.Format(System.Globalization.CultureInfo.InvariantCulture, UnknownUserReply, address);
            }

            return address.StartsWith("busy", StringComparison.Ordinal)
                ? string.Format(System.Globalization.CultureInfo.InvariantCulture, TemporaryReply, address)
                : null;
        });

    /// <summary>
    /// A dialogue that keeps transaction state as Postfix does, around the test's own replies: after a refused MAIL,
    /// RCPT and DATA get 503; DATA with no accepted recipient gets 554 5.5.1 (a pipelining client sends DATA before it
    /// reads the RCPT replies, and must not be answered 354 then).
    /// </summary>
    public static SmtpDialogue Postfix(Func<string, string?>? respond = null)
    {
        var state = new TransactionState();
        return new SmtpDialogue
        {
            Respond = line =>
            {
                var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
                string? reply;
                switch (verb)
                {
                    case "MAIL":
                        reply = respond?.Invoke(line);
                        state.Mail = reply is null || reply.StartsWith('2');
                        state.Recipients = 0;
                        return reply;
                    case "RCPT":
                        if (!state.Mail)
                        {
                            return "503 5.5.1 Error: need MAIL command";
                        }

                        reply = respond?.Invoke(line);
                        if (reply is null || reply.StartsWith('2'))
                        {
                            state.Recipients++;
                        }

                        return reply;
                    case "DATA":
                        if (!state.Mail)
                        {
                            return "503 5.5.1 Error: need RCPT command";
                        }

                        if (state.Recipients == 0)
                        {
                            state.Mail = false;
                            return "554 5.5.1 Error: no valid recipients";
                        }

                        return respond?.Invoke(line);
                    case "<END":
                    case "RSET":
                        state.Mail = false;
                        return respond?.Invoke(line);
                    default:
                        return respond?.Invoke(line);
                }
            },
        };
    }

    private sealed class TransactionState
    {
        public bool Mail { get; set; }

        public int Recipients { get; set; }
    }

    public static string RcptAddress(string line)
    {
        var start = line.IndexOf('<', StringComparison.Ordinal) + 1;
        return line[start..line.IndexOf('>', start)];
    }

    /// <summary>The transactions a dialogue saw, in order, each written "sender: rcpt1, rcpt2".</summary>
    public static List<string> TransactionLines(SmtpDialogue dialogue) =>
        Transactions(dialogue).ConvertAll(t => t.Sender + ": " + string.Join(", ", t.Recipients));

    /// <summary>The transactions a dialogue saw, in order: the sender of each MAIL and the RCPT addresses that followed it.</summary>
    public static List<(string Sender, List<string> Recipients)> Transactions(SmtpDialogue dialogue)
    {
        var list = new List<(string, List<string>)>();
        foreach (var line in dialogue.Commands)
        {
            if (line.StartsWith("MAIL FROM:<", StringComparison.OrdinalIgnoreCase))
            {
                list.Add((RcptAddress(line), new List<string>()));
            }
            else if (line.StartsWith("RCPT TO:<", StringComparison.OrdinalIgnoreCase))
            {
                list[^1].Item2.Add(RcptAddress(line));
            }
        }

        return list;
    }

    public static int Count(SmtpDialogue dialogue, string verb) =>
        dialogue.Commands.Count(c => c.StartsWith(verb, StringComparison.OrdinalIgnoreCase));

    /// <summary>The report has exactly the envelope's recipients, in its order: nothing without an outcome.</summary>
    public static void AssertEveryRecipientReported(SmtpEnvelope envelope, DeliveryReport report)
    {
        Assert.Equal(envelope.Recipients, report.Recipients.Select(r => r.Address));
        Assert.Equal(report.Recipients.Count, report.DeliveredCount + report.DeferredCount + report.FailedCount);
        Assert.Equal(report.Recipients.Count(r => r.Status == DeliveryStatus.Delivered), report.DeliveredCount);
        Assert.Equal(report.Recipients.Count(r => r.Status == DeliveryStatus.Deferred), report.DeferredCount);
        Assert.Equal(report.Recipients.Count(r => r.Status == DeliveryStatus.Failed), report.FailedCount);
        Assert.Equal(report.DeliveredCount == report.Recipients.Count, report.IsFullyDelivered);
    }

    /// <summary>Checks one recipient's outcome: status, the reply (code, enhanced code, full text), host, address and attempts.</summary>
    public static void AssertRecipient(
        RecipientDelivery recipient,
        DeliveryStatus status,
        int? code,
        string? enhanced,
        string? text,
        string? mxHost,
        IPAddress? address,
        int? attempts,
        bool synthetic = false)
    {
        var what = recipient.ToString();
        Assert.True(status == recipient.Status, $"{what}: expected {status}");
        if (code is null)
        {
            Assert.True(recipient.Reply is null, $"{what}: expected no reply");
        }
        else
        {
            Assert.True(recipient.Reply is not null, $"{what}: expected a reply {code}");
            Assert.Equal(code, recipient.Reply!.Code);
            Assert.Equal(enhanced, recipient.Reply.EnhancedStatusCode?.ToString());
            if (text is not null)
            {
                Assert.Equal(text, recipient.Reply.Text);
            }

            Assert.True(synthetic == recipient.Reply.IsSynthetic, $"{what}: IsSynthetic should be {synthetic}");
        }

        Assert.True(mxHost == recipient.MxHost, $"{what}: expected MX host {mxHost ?? "(none)"}, got {recipient.MxHost ?? "(none)"}");
        Assert.True(Equals(address, recipient.ServerAddress), $"{what}: expected address {address?.ToString() ?? "(none)"}, got {recipient.ServerAddress?.ToString() ?? "(none)"}");
        if (attempts is not null)
        {
            Assert.True(attempts == recipient.Attempts, $"{what}: expected {attempts} attempt(s), got {recipient.Attempts}");
        }

        Assert.True(recipient.Duration >= TimeSpan.Zero, $"{what}: negative duration");
    }

    public static void AssertDelivered(RecipientDelivery recipient, string mxHost, IPAddress address, int attempts = 1) =>
        AssertRecipient(recipient, DeliveryStatus.Delivered, 250, "2.0.0", Queued, mxHost, address, attempts);
}
