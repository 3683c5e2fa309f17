using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// The greylisting server <c>greylist_server.py</c> (aiosmtpd) as a child process on a fixed address: 450 4.2.0 to the
/// first RCPT of every (client, sender, recipient) triple until <c>delay</c> has passed, then accepted. Killed on dispose.
/// </summary>
public sealed class GreylistServer : IDisposable
{
    private readonly ChildProcess _process;

    public GreylistServer(IPAddress address, TimeSpan delay)
    {
        Store = Directory.CreateTempSubdirectory("directmail-greylist-").FullName;
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; // Debian's, which has aiosmtpd
        var script = Path.Combine(AppContext.BaseDirectory, "Delivery", "greylist_server.py");
        _process = new ChildProcess(python, [script, "--host", address.ToString(), "--port", TestAddresses.Delivery.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--store", Store, "--delay", delay.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        _process.WaitForOutput("ready", TimeSpan.FromSeconds(15), "the greylisting server (python3-aiosmtpd)");
    }

    public string Store { get; }

    /// <summary>Every RCPT decision: "450 client sender recipient" or "250 ...".</summary>
    public IReadOnlyList<string> RcptLog
    {
        get
        {
            var path = Path.Combine(Store, "rcpt.log");
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
    }

    public IReadOnlyList<StoredMail> Messages()
    {
        var list = new List<StoredMail>();
        foreach (var eml in Directory.GetFiles(Store, "*.eml").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f), System.Globalization.CultureInfo.InvariantCulture)))
        {
            using var envelope = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(eml, ".json")));
            var recipients = envelope.RootElement.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()!).ToList();
            list.Add(new StoredMail(envelope.RootElement.GetProperty("mail_from").GetString()!, recipients, File.ReadAllBytes(eml)));
        }

        return list;
    }

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(Store, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Postfix's <c>smtp-sink</c> (Debian package postfix) on a fixed address, dumping every transaction into a directory.
/// It stores line ends as LF and prepends its own envelope and Received lines, which <see cref="Messages"/> takes off.
/// </summary>
public sealed class SmtpSinkServer : IDisposable
{
    private readonly ChildProcess _process;

    public SmtpSinkServer(IPAddress address, bool dump = true, int maxConnections = 256, bool offerDsn = true)
    {
        Store = Directory.CreateTempSubdirectory("directmail-sink-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Store, (UnixFileMode)0x1FF); // smtp-sink drops to "nobody" before it writes
        }
        var sink = ChildProcess.FindExecutable("smtp-sink") ?? throw new InvalidOperationException("smtp-sink is missing: apt-get install postfix (.ci/run does this).");
        var endPoint = TestAddresses.Delivery.EndPoint(address);
        var arguments = new List<string> { "-u", "nobody", "-h", "sink.deliver.test" };
        if (dump)
        {
            arguments.AddRange(["-d", Path.Combine(Store, "%H%M%S.")]);
        }

        if (!offerDsn)
        {
            arguments.Add("-N"); // no DSN in the EHLO reply: a next hop that sends no notices
        }

        arguments.AddRange([$"{endPoint.Address}:{endPoint.Port}", maxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        _process = new ChildProcess(sink, [.. arguments]);
        ChildProcess.WaitUntilListening(endPoint, _process, "smtp-sink");
    }

    public string Store { get; }

    public IReadOnlyList<StoredMail> Messages()
    {
        var list = new List<StoredMail>();
        foreach (var file in Directory.GetFiles(Store).OrderBy(f => File.GetLastWriteTimeUtc(f)))
        {
            var lines = File.ReadAllText(file, Encoding.UTF8).Split('\n');
            string sender = string.Empty;
            var recipients = new List<string>();
            var i = 0;
            for (; i < lines.Length && lines[i].StartsWith("X-", StringComparison.Ordinal); i++)
            {
                if (lines[i].StartsWith("X-Mail-Args: ", StringComparison.Ordinal))
                {
                    sender = Angle(lines[i]["X-Mail-Args: ".Length..]);
                }
                else if (lines[i].StartsWith("X-Rcpt-Args: ", StringComparison.Ordinal))
                {
                    recipients.Add(Angle(lines[i]["X-Rcpt-Args: ".Length..]));
                }
            }

            // smtp-sink's Received header and its continuation lines.
            if (i < lines.Length && lines[i].StartsWith("Received: ", StringComparison.Ordinal))
            {
                for (i++; i < lines.Length && lines[i].StartsWith('\t'); i++)
                {
                }
            }

            // The rest is the content with LF line ends, followed by one empty line that separates dumps.
            var rest = string.Join("\r\n", lines[i..^2]) + "\r\n";
            list.Add(new StoredMail(sender, recipients, Encoding.UTF8.GetBytes(rest)));
        }

        return list;

        static string Angle(string args) => args.Split(' ')[0].Trim('<', '>');
    }

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(Store, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
