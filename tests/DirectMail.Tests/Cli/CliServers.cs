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
    public static readonly IPEndPoint DnsEndPoint = TestAddresses.Cli.NameServer;

    public static readonly IPEndPoint MailEndPoint = new(TestAddresses.Cli.Mail, TestAddresses.Cli.Port);

    /// <summary>The value for <c>--dns</c>.</summary>
    public static string Dns => DnsEndPoint.ToString();

    /// <summary>The CLI tests' zone. Every SMTP server of these tests listens on port 10025 of an address in 127.0.28.0/24.</summary>
    public static readonly NsdZone Zone = new ZoneBuilder("cli.test").WithNameServer(DnsEndPoint.Address)
        // Two MX hosts, the preferred one with two addresses (mx only: nothing listens there).
        .Mx("twomx", 20, "mx2.twomx", TestAddresses.Cli.TwoMxBackup)
        .Mx("twomx", 10, "mx1.twomx", TestAddresses.Cli.TwoMxPrimary)

        // No MX: the domain's own address is the target (implicit MX).
        .A("implicit", TestAddresses.Cli.Implicit)

        // Null MX (RFC 7505); the A record must never be used.
        .NullMx("nullmx").A("nullmx", TestAddresses.Cli.NullMxTrap)

        // (nosuch.cli.test does not exist: NXDOMAIN.)

        // An MX host with no address at all (NODATA for A and AAAA): no usable target.
        .Mx("noaddress", 10, "mx.noaddress").Txt("mx.noaddress", "no address here")

        // The scripted SMTP server of the send tests.
        .Mx("mail", 10, "mx.mail", TestAddresses.Cli.Mail)
        .Build();

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
        _dns = new NsdServer(DnsEndPoint, [Zone]);
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
