using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Queue.Crash;

/// <summary>
/// The aiosmtpd server of the delivery tests (<c>Delivery/greylist_server.py</c>) as the crash tests' sink on one
/// loopback address: no greylisting (it accepts everything), each message stored before the reply, <c>replyDelay</c>
/// between the two, and the messages whose client went away in that wait noted (stored, but the client never heard
/// the 250). Killed on dispose.
/// </summary>
internal sealed class CrashSinkServer : IDisposable
{
    private readonly ChildProcess _process;

    public CrashSinkServer(IPAddress address, int port, TimeSpan replyDelay)
    {
        Address = address;
        Store = Directory.CreateTempSubdirectory("directmail-crash-sink-").FullName;
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; // Debian's, which has aiosmtpd
        var script = Path.Combine(AppContext.BaseDirectory, "Delivery", "greylist_server.py");
        _process = new ChildProcess(python,
        [
            script, "--host", address.ToString(), "--port", port.ToString(CultureInfo.InvariantCulture), "--store", Store,
            "--delay", "0", "--reply-delay", replyDelay.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        ]);
        _process.WaitForOutput("ready", TimeSpan.FromSeconds(15), "the crash tests' sink (python3-aiosmtpd)");
    }

    public IPAddress Address { get; }

    public string Store { get; }

    /// <summary>Every message stored, by the server's number: the envelope's recipients and the content as received.</summary>
    public IReadOnlyDictionary<int, (IReadOnlyList<string> Recipients, byte[] Content)> Messages()
    {
        var messages = new Dictionary<int, (IReadOnlyList<string>, byte[])>();
        foreach (var eml in Directory.GetFiles(Store, "*.eml"))
        {
            var n = int.Parse(Path.GetFileNameWithoutExtension(eml), CultureInfo.InvariantCulture);
            using var envelope = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(eml, ".json")));
            var recipients = envelope.RootElement.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()!).ToList();
            messages[n] = (recipients, File.ReadAllBytes(eml));
        }

        return messages;
    }

    /// <summary>The numbers of the messages stored whose client went away before the 250 was sent.</summary>
    public IReadOnlySet<int> LostBeforeReply()
    {
        var path = Path.Combine(Store, "lost.log");
        return File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToHashSet() : new HashSet<int>();
    }

    /// <summary>What the server printed (its errors), for failure messages.</summary>
    public string Output => _process.Output;

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
