using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Text;
using DirectMail.Dkim;
using DirectMail.Dkim.Ed25519;

namespace DirectMail.Cli;

/// <summary>
/// <c>directmail dkim keygen</c>: a new DKIM key, saved for signing, and the DNS record that publishes it: RSA by default
/// (<see cref="DkimKeyGenerator"/>), Ed25519 with <c>--algorithm ed25519</c> (<see cref="DkimEd25519"/>, RFC 8463).
/// </summary>
internal static class DkimCommand
{
    public const int MinBits = 1024;
    public const int MaxBits = 4096;

    public static Command Create()
    {
        var command = new Command("dkim", "DKIM (RFC 6376): make the key that `directmail send --dkim-key` and DirectMail:Dkim sign with.")
        {
            CreateKeygen(),
        };
        return command;
    }

    private static Command CreateKeygen()
    {
        var domain = new Option<string>("--dkim-domain", "--domain") { Description = "The signing domain (d=): the domain of the From addresses to sign (send --dkim-domain).", Required = true, HelpName = "DOMAIN" };
        var selector = new Option<string>("--dkim-selector", "--selector") { Description = "The selector (s=): the key is published at SELECTOR._domainkey.DOMAIN; a new selector lets a new key replace an old one (send --dkim-selector).", Required = true, HelpName = "S" };
        var algorithm = new Option<string>("--algorithm") { Description = "rsa (default: rsa-sha256, what every receiver verifies) or ed25519 (ed25519-sha256, RFC 8463: a second key beside the RSA one; Gmail, Outlook and Yahoo verify only RSA).", DefaultValueFactory = _ => "rsa", HelpName = "rsa|ed25519" };
        algorithm.AcceptOnlyFromAmong("rsa", "ed25519");
        var bits = new Option<int>("--bits") { Description = $"The RSA key size, {MinBits} to {MaxBits} bits, a multiple of 8 (2048 recommended; 4096-bit records need a DNS host that takes long TXT records).", DefaultValueFactory = _ => 2048, HelpName = "N" };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the private key (PEM, mode 0600 on Unix); default SELECTOR.DOMAIN.pem in the current folder.", HelpName = "FILE" };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it exists (the old key is lost: mail signed with it stops verifying once its record is replaced)." };
        Options.AddRange(bits, n => n is >= MinBits and <= MaxBits && n % 8 == 0, $"--bits must be {MinBits} to {MaxBits}, a multiple of 8 (2048 recommended).");

        var command = new Command("keygen", "Generate a DKIM key (RSA, or Ed25519 with --algorithm ed25519): write the private key to a file and print the DNS TXT record to publish (name and value, and as a zone-file line).")
        {
            domain, selector, algorithm, bits, output, force,
        };
        command.SetAction(parse =>
        {
            var ed25519 = parse.GetValue(algorithm) == "ed25519";
            if (ed25519 && parse.GetResult(bits) is { Implicit: false })
            {
                throw CliException.Usage("--bits is for RSA keys: an Ed25519 key always has 256 bits.");
            }

            var (name, selectorName, normalized) = Check(parse.GetRequiredValue(domain), parse.GetRequiredValue(selector));
            var file = parse.GetValue(output) ?? new FileInfo($"{selectorName}.{normalized}.pem");
            if (!parse.GetValue(force) && File.Exists(file.FullName))
            {
                throw Exists(file);
            }

            var pair = ed25519 ? DkimEd25519.GenerateKey() : DkimKeyGenerator.Generate(parse.GetValue(bits));
            Write(file, pair.PrivateKeyPem, parse.GetValue(force));
            if (ed25519)
            {
                PrintEd25519(Console.Out, file, name, selectorName, normalized, pair.DnsRecord);
            }
            else
            {
                Print(Console.Out, file, parse.GetValue(bits), name, selectorName, normalized, pair.DnsRecord);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The record name, the selector and the domain (A-labels, lower case), or a <see cref="CliException"/> (65).</summary>
    private static (string Name, string Selector, string Domain) Check(string domain, string selector)
    {
        string name;
        try
        {
            name = DkimKeyGenerator.DnsRecordName(selector, domain);
        }
        catch (ArgumentException e) when (e.ParamName == "selector")
        {
            throw CliException.Input($"--dkim-selector '{selector}' is not a selector: one or more DNS labels (letters, digits, '-', '_', separated by '.'), for example 'mail2025'.", e);
        }
        catch (ArgumentException e)
        {
            throw CliException.Input($"--dkim-domain '{domain}' is not a domain name: {CliException.Reason(e)}", e);
        }

        var normalized = name[(name.IndexOf("._domainkey.", StringComparison.Ordinal) + "._domainkey.".Length)..];
        if (!normalized.Contains('.', StringComparison.Ordinal))
        {
            throw CliException.Input($"--dkim-domain '{domain}' is not a fully qualified domain name (the domain of the From addresses, for example example.com).");
        }

        return (name, selector.ToLowerInvariant(), normalized);
    }

    /// <summary>Writes the private key, readable by its owner only from the moment it exists; refuses to overwrite without --force.</summary>
    private static void Write(FileInfo file, string pem, bool force)
    {
        if (Directory.Exists(file.FullName))
        {
            throw new CliException(ExitCodes.CannotCreate, $"--out '{file}' is a folder: give the key file's name.");
        }

        var options = new FileStreamOptions { Mode = force ? FileMode.Create : FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(file.FullName, options);
            if (!OperatingSystem.IsWindows())
            {
                // A file overwritten with --force keeps its old mode otherwise.
                File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            stream.Write(Encoding.ASCII.GetBytes(pem));
        }
        catch (IOException e) when (!force && File.Exists(file.FullName))
        {
            throw Exists(file, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.CannotCreate, $"--out '{file}': cannot create the file: {InputFiles.Unreadable(e)}", e);
        }
    }

    private static CliException Exists(FileInfo file, Exception? inner = null) =>
        new(ExitCodes.CannotCreate, $"--out '{file}' exists: not overwritten (it may be a key in use). Give another --out, or --force to replace it.", inner);

    private static void Print(TextWriter output, FileInfo file, int bits, string name, string selector, string domain, string record)
    {
        var path = file.ToString();
        var shown = path.Contains(' ', StringComparison.Ordinal) ? $"\"{path}\"" : path;
        PrintRecord(output, string.Create(CultureInfo.InvariantCulture, $"{bits}-bit RSA"), path, name, selector, domain, record);
        output.WriteLine($"Sign with it: directmail send --from you@{domain} ... --dkim-key {shown} --dkim-selector {selector}; or in configuration: \"DirectMail\": {{ \"Dkim\": [ {{ \"Domain\": \"{domain}\", \"Selector\": \"{selector}\", \"PrivateKeyFile\": \"{file.FullName.Replace("\\", "\\\\", StringComparison.Ordinal)}\" }} ] }}");
        output.WriteLine($"Once published, check it: directmail doctor {domain} --dkim-selector {selector} --dkim-key {shown}");
    }

    private static void PrintEd25519(TextWriter output, FileInfo file, string name, string selector, string domain, string record)
    {
        PrintRecord(output, "Ed25519", file.ToString(), name, selector, domain, record);
        var path = file.ToString();
        var shown = path.Contains(' ', StringComparison.Ordinal) ? $"\"{path}\"" : path;
        output.WriteLine("Give the domain an RSA key too (directmail dkim keygen --dkim-domain " + domain + " --dkim-selector OTHER): Gmail, Outlook and Yahoo verify only rsa-sha256, and every key of the domain signs each message.");
        output.WriteLine($"Sign with it: services.AddDirectMail(...).AddDkimKey(\"{domain}\", \"OTHER\", \"rsa.pem\").AddDkimEd25519(\"{domain}\", \"{selector}\", \"{file.FullName.Replace("\\", "\\\\", StringComparison.Ordinal)}\") (package DirectMail.Dkim.Ed25519); or in configuration, with AddDkimEd25519(): \"DirectMail\": {{ \"Dkim\": [ {{ \"Domain\": \"{domain}\", \"Selector\": \"{selector}\", \"Algorithm\": \"ed25519-sha256\", \"PrivateKeyFile\": \"{file.FullName.Replace("\\", "\\\\", StringComparison.Ordinal)}\" }} ] }}");
        output.WriteLine($"Once published, check it: directmail doctor {domain} --dkim-selector OTHER --dkim-key rsa.pem --ed25519-selector {selector} --ed25519-key {shown}");
    }

    private static void PrintRecord(TextWriter output, string kind, string path, string name, string selector, string domain, string record)
    {
        output.WriteLine($"Wrote the private key ({kind}, PKCS#8 PEM) to {path}: keep it secret.");
        output.WriteLine();
        output.WriteLine("Publish this DNS TXT record:");
        output.WriteLine("  name:  " + name);
        output.WriteLine("  value: " + record);
        output.WriteLine();
        // Not indented: in a zone file, a line that starts with a space belongs to the previous owner name.
        output.WriteLine("As a zone-file line:");
        output.WriteLine(DkimKeyGenerator.ZoneFileRecord(selector, domain, record));
        output.WriteLine();
    }
}
