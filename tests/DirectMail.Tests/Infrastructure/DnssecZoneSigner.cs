using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// Signs test zones with the ldns tools (Debian package <c>ldnsutils</c>): a fresh key made by <c>ldns-keygen</c> for
/// each zone in a temporary directory (no private key is kept anywhere else), the zone signed by <c>ldns-signzone</c>
/// (with NSEC records, so denials are provable), and the DS record of the key from <c>ldns-key2ds</c> for the parent
/// zone or the validating resolver's trust anchor. Dispose deletes the directory with the keys.
/// </summary>
public sealed class DnssecZoneSigner : IDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("directmail-ldns-").FullName;

    /// <summary>A zone signed: its text with DNSKEY, RRSIG and NSEC records, and the DS record of its key.</summary>
    /// <param name="SignedText">The signed zone file's text.</param>
    /// <param name="DelegationSigner">The DS record (<c>NAME. 3600 IN DS TAG 13 2 HEX</c>), one line.</param>
    public sealed record SignedZone(string SignedText, string DelegationSigner);

    /// <summary>Signs <paramref name="text"/> as <paramref name="zone"/> with a new ECDSA P-256 key (algorithm 13).</summary>
    /// <param name="zone">The zone's name, without the trailing dot.</param>
    /// <param name="text">The zone file (with $ORIGIN and SOA).</param>
    /// <param name="validFrom">Signature inception; null for now minus an hour.</param>
    /// <param name="validUntil">Signature expiration; null for 30 days from now. A date in the past makes a zone whose
    /// answers a validating resolver finds bogus.</param>
    public SignedZone Sign(string zone, string text, DateTimeOffset? validFrom = null, DateTimeOffset? validUntil = null)
    {
        var keygen = Tool("ldns-keygen");
        var signzone = Tool("ldns-signzone");
        var key2ds = Tool("ldns-key2ds");

        var unsigned = Path.Combine(_directory, zone + ".zone");
        File.WriteAllText(unsigned, text);

        // ldns-keygen prints the base name of the files it wrote (K<zone>.+013+<tag>); -k makes a key-signing key,
        // used here alone as a combined signing key.
        var keyName = Run(keygen, "-a", "ECDSAP256SHA256", "-k", zone).Trim();
        var ds = Run(key2ds, "-n", "-2", keyName + ".key").Trim();

        var inception = (validFrom ?? DateTimeOffset.UtcNow.AddHours(-1)).UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var expiration = (validUntil ?? DateTimeOffset.UtcNow.AddDays(30)).UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        Run(signzone, "-i", inception, "-e", expiration, "-f", unsigned + ".signed", unsigned, keyName);
        return new SignedZone(File.ReadAllText(unsigned + ".signed"), ds);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is harmless.
        }
    }

    private static string Tool(string name) => ChildProcess.FindExecutable(name)
        ?? throw new InvalidOperationException($"{name} is not installed: apt-get install ldnsutils (tests/run does this).");

    private string Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = _directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ToolTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} did not finish within {ToolTimeout.TotalSeconds} seconds.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Result}{output.Result}");
        }

        return output.Result;
    }
}
