using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.Cryptography;
using DirectMail.Tests.Infrastructure;
using Org.BouncyCastle.Crypto;

namespace DirectMail.Tests.Dkim;

/// <summary>
/// Independent DKIM verifiers, each given the message as it went on the wire (CRLF line ends) and the keys in the
/// test DNS: dkimpy (python3-dkim) asking NSD through dnspython, opendkim-testmsg (opendkim-tools, libopendkim)
/// asking the system resolver inside its own namespaces (see opendkim_verify.sh), and MimeKit's DkimVerifier with a
/// key locator that asks NSD too.
/// </summary>
public static class DkimVerifiers
{
    public sealed record Result(bool Passed, string Output);

    /// <summary>dkimpy: every signature must pass.</summary>
    public static Task<Result> DkimpyAsync(byte[] message)
        => RunAsync("/usr/bin/python3", message, Path.Combine(AppContext.BaseDirectory, "Dkim", "dkim_verify.py"), DkimDnsFixture.Server);

    /// <summary>libopendkim through opendkim-testmsg: the message must verify.</summary>
    public static async Task<Result> OpenDkimAsync(byte[] message, DkimDnsFixture dns)
    {
        var file = Path.Combine(dns.Directory, "message-" + Guid.NewGuid().ToString("N") + ".eml");
        File.WriteAllBytes(file, message);
        try
        {
            return await RunAsync("/bin/bash", [], Path.Combine(AppContext.BaseDirectory, "Dkim", "opendkim_verify.sh"), dns.ZoneFile, file, DkimDnsFixture.Zone);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>MimeKit: every DKIM-Signature field must verify.</summary>
    public static async Task<Result> MimeKitAsync(byte[] message)
    {
        using var stream = new MemoryStream(message);
        var parsed = await MimeMessage.LoadAsync(stream);
        var verifier = new DkimVerifier(new NsdKeyLocator()) { MinimumRsaKeyLength = 1024 };
        var count = 0;
        var output = new System.Text.StringBuilder();
        foreach (var header in parsed.Headers)
        {
            if (header.Id != HeaderId.DkimSignature)
            {
                continue;
            }

            count++;
            var ok = await verifier.VerifyAsync(parsed, header);
            output.AppendLine((ok ? "pass " : "fail ") + header.Value.Trim());
            if (!ok)
            {
                return new Result(false, output.ToString());
            }
        }

        return new Result(count > 0, count > 0 ? output.ToString() : "no DKIM-Signature");
    }

    private static async Task<Result> RunAsync(string program, byte[] stdin, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, stdin);
        return new Result(result.ExitCode == 0, $"exit {result.ExitCode}: {result.StdOut}{result.StdErr}");
    }

    /// <summary>Finds keys in the test zone with DnsClient, as a receiver's resolver would.</summary>
    private sealed class NsdKeyLocator : DkimPublicKeyLocatorBase
    {
        private readonly DnsClient.LookupClient _client = new(new DnsClient.LookupClientOptions(new System.Net.IPEndPoint(DkimDnsFixture.Address, DkimDnsFixture.Port)) { UseCache = false, Timeout = TimeSpan.FromSeconds(5), Retries = 3, UseTcpFallback = true });

        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default)
            => LocatePublicKeyAsync(methods, domain, selector, cancellationToken).GetAwaiter().GetResult();

        public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
        {
            var response = await _client.QueryAsync(selector + "._domainkey." + domain, DnsClient.QueryType.TXT, cancellationToken: cancellationToken);
            foreach (var record in response.Answers)
            {
                if (record is DnsClient.Protocol.TxtRecord txt)
                {
                    return GetPublicKey(string.Concat(txt.Text));
                }
            }

            throw new InvalidOperationException($"No key at {selector}._domainkey.{domain}.");
        }
    }
}
