using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// A well-behaved SMTP server dialogue for <see cref="ScriptedSmtpServer"/>, with every reply overridable: the
/// default answers are what Postfix says; <see cref="Respond"/> changes any of them, and the special replies
/// <c>&lt;drop&gt;</c>, <c>&lt;reset&gt;</c> and <c>&lt;silent&gt;</c> close, reset or ignore.
/// </summary>
public sealed class SmtpDialogue
{
    public const string Drop = "<drop>";
    public const string ResetConnection = "<reset>";
    public const string Silent = "<silent>";

    public string Greeting { get; set; } = "220 mx.test ESMTP";

    public string EhloReply { get; set; } = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8";

    /// <summary>Returns the reply for a command line, or null for the default one.</summary>
    public Func<string, string?>? Respond { get; set; }

    /// <summary>
    /// As <see cref="Respond"/>, for a server that takes its time (awaited, no thread blocked); used instead of
    /// <see cref="Respond"/> when set.
    /// </summary>
    public Func<string, Task<string?>>? RespondAsync { get; set; }

    /// <summary>The reply after the end of data (or the last BDAT).</summary>
    public string DataAccepted { get; set; } = "250 2.0.0 Ok: queued as 4XyZ";

    /// <summary>Messages received, as the server would store them (dot-stuffing removed), in order.</summary>
    public ConcurrentQueue<byte[]> Messages { get; } = new();

    /// <summary>Every command line received, in order, over all connections.</summary>
    public ConcurrentQueue<string> Commands { get; } = new();

    private Task<string?> AskAsync(string line) => RespondAsync is { } respond ? respond(line) : Task.FromResult(Respond?.Invoke(line));

    public async Task RunAsync(ScriptedConnection connection)
    {
        if (!await SendAsync(connection, Greeting))
        {
            return;
        }

        await RunAfterGreetingAsync(connection);
    }

    /// <summary>Answers commands from where a script left the conversation (after a custom greeting or TLS).</summary>
    public async Task RunAfterGreetingAsync(ScriptedConnection connection)
    {
        while (true)
        {
            var line = await connection.ReadLineAsync();
            if (line is null)
            {
                return;
            }

            Commands.Enqueue(line);
            var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
            var custom = await AskAsync(line);
            if (verb == "BDAT")
            {
                var parts = line.Split(' ');
                byte[] chunk;
                try
                {
                    chunk = await connection.ReadBytesAsync(int.Parse(parts[1], CultureInfo.InvariantCulture));
                }
                catch (System.IO.EndOfStreamException)
                {
                    return; // the client abandoned the message: a server discards it
                }

                _chunks.Add(chunk);
                var last = parts.Length > 2 && parts[2].Equals("LAST", StringComparison.OrdinalIgnoreCase);
                if (last)
                {
                    var total = new System.IO.MemoryStream();
                    foreach (var c in _chunks)
                    {
                        total.Write(c);
                    }

                    _chunks.Clear();
                    if (custom is null)
                    {
                        Messages.Enqueue(total.ToArray());
                    }
                }

                if (!await SendAsync(connection, custom ?? (last ? DataAccepted : "250 2.0.0 chunk ok")))
                {
                    return;
                }

                continue;
            }

            var reply = custom ?? verb switch
            {
                "EHLO" => EhloReply,
                "HELO" => "250 mx.test",
                "MAIL" => "250 2.1.0 Ok",
                "RCPT" => "250 2.1.5 Ok",
                "DATA" => "354 End data with <CR><LF>.<CR><LF>",
                "RSET" => "250 2.0.0 Ok",
                "NOOP" => "250 2.0.0 Ok",
                "QUIT" => "221 2.0.0 Bye",
                _ => "502 5.5.2 Error: command not recognized",
            };

            if (!await SendAsync(connection, reply))
            {
                return;
            }

            if (verb == "QUIT")
            {
                connection.Close();
                return;
            }

            if (verb == "DATA" && reply.StartsWith("354", StringComparison.Ordinal))
            {
                byte[] data;
                try
                {
                    data = await connection.ReadDataAsync();
                }
                catch (System.IO.EndOfStreamException)
                {
                    return; // the client abandoned the message: a server discards it
                }

                Messages.Enqueue(Unstuff(data));
                var after = await AskAsync("<end-of-data>") ?? DataAccepted;
                if (!await SendAsync(connection, after))
                {
                    return;
                }
            }
        }
    }

    private readonly List<byte[]> _chunks = new();

    private static async Task<bool> SendAsync(ScriptedConnection connection, string reply)
    {
        switch (reply)
        {
            case Drop:
                connection.Close();
                return false;
            case ResetConnection:
                connection.Reset();
                return false;
            case Silent:
                return true;
            default:
                await connection.ReplyAsync(reply);
                return true;
        }
    }

    /// <summary>Removes dot-stuffing as a server does (RFC 5321 section 4.5.2).</summary>
    public static byte[] Unstuff(byte[] data)
    {
        var output = new System.IO.MemoryStream(data.Length);
        var lineStart = true;
        for (var i = 0; i < data.Length; i++)
        {
            if (lineStart && data[i] == (byte)'.')
            {
                lineStart = false;
                continue;
            }

            output.WriteByte(data[i]);
            lineStart = data[i] == (byte)'\n' && i > 0 && data[i - 1] == (byte)'\r';
        }

        return output.ToArray();
    }
}
