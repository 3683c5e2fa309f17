using System;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Cli;

/// <summary>
/// The real servers of the CLI tests, on loopback only: NSD on 127.0.53.28:10053 serving the zone <c>cli.test</c>
/// (<see cref="Zone"/>), and one scripted SMTP server (Postfix's replies) on 127.0.28.10:10025, the MX of
/// <c>mail.cli.test</c>. Its recipients whose local part starts with "bounce" are refused for good (550 5.1.1), those
/// starting with "later" for now (451 4.7.1), as a real server refuses unknown users and greylists.
/// </summary>
public sealed class CliServers : IAsyncLifetime
{
    public static readonly IPEndPoint DnsEndPoint = new(IPAddress.Parse("127.0.53.28"), 10053);

    public static readonly IPEndPoint MailEndPoint = new(IPAddress.Parse("127.0.28.10"), 10025);

    /// <summary>The value for <c>--dns</c>.</summary>
    public static string Dns => DnsEndPoint.ToString();

    public const string Zone = """
        ; The CLI tests' zone (tests/DirectMail.Tests/Cli), served by NSD on 127.0.53.28 port 10053. Every SMTP server of
        ; these tests listens on port 10025 of an address in 127.0.28.0/24.
        $ORIGIN cli.test.
        $TTL 300
        @               SOA     ns.cli.test. hostmaster.cli.test. 1 3600 600 86400 60
        @               NS      ns.cli.test.
        ns              A       127.0.53.28

        ; Two MX hosts, the preferred one with two addresses (mx only: nothing listens there).
        twomx           MX      20 mx2.twomx
        twomx           MX      10 mx1.twomx
        mx1.twomx       A       127.0.28.1
        mx1.twomx       A       127.0.28.2
        mx2.twomx       A       127.0.28.3

        ; No MX: the domain's own address is the target (implicit MX).
        implicit        A       127.0.28.4

        ; Null MX (RFC 7505); the A record must never be used.
        nullmx          MX      0 .
        nullmx          A       127.0.28.5

        ; (nosuch.cli.test does not exist: NXDOMAIN.)

        ; An MX host with no address at all (NODATA for A and AAAA): no usable target.
        noaddress       MX      10 mx.noaddress
        mx.noaddress    TXT     "no address here"

        ; The scripted SMTP server of the send tests.
        mail            MX      10 mx.mail
        mx.mail         A       127.0.28.10
        """;

    private NsdServer? _dns;

    public SmtpDialogue Dialogue { get; } = new()
    {
        Respond = line =>
            line.StartsWith("RCPT TO:<bounce", StringComparison.OrdinalIgnoreCase) ? "550 5.1.1 <" + Mailbox(line) + ">: Recipient address rejected: User unknown in local recipient table"
            : line.StartsWith("RCPT TO:<later", StringComparison.OrdinalIgnoreCase) ? "451 4.7.1 <" + Mailbox(line) + ">: Recipient address rejected: Greylisted, try again later"
            : null,
    };

    public ScriptedSmtpServer? Mail { get; private set; }

    public Task InitializeAsync()
    {
        _dns = new NsdServer(DnsEndPoint, [new NsdZone("cli.test", Zone + "\n")]);
        Mail = ScriptedSmtpServer.Start(Dialogue.RunAsync, MailEndPoint);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (Mail is not null)
        {
            await Mail.DisposeAsync();
        }

        _dns?.Dispose();
    }

    /// <summary>Forgets what earlier tests sent (the tests of the collection run one at a time).</summary>
    public void Reset()
    {
        Dialogue.Messages.Clear();
        Dialogue.Commands.Clear();
    }

    private static string Mailbox(string line) => line[(line.IndexOf('<') + 1)..line.IndexOf('>')];
}

/// <summary>The CLI tests: one NSD and one SMTP server, so they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliServers>
{
    public const string Name = "CLI (directmail as a process; NSD on 127.0.53.28:10053, SMTP on 127.0.28.10:10025)";
}
