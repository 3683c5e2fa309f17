using System.Net;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// The MX addresses of <c>zones/deliver.test.zone</c> and <c>zones/elsewhere.test.zone</c>. Every SMTP server of the
/// delivery tests listens on <see cref="Port"/> of its own address in 127.0.26.0/24 (other suites use 127.0.25.x).
/// </summary>
public static class DeliveryAddresses
{
    /// <summary>The one SMTP port of every MX (the mailer's <c>Port</c> option applies to all hosts).</summary>
    public const int Port = 10025;

    public static readonly IPAddress RefusedPrimary = Ip(1);      // nothing listens
    public static readonly IPAddress RefusedBackup = Ip(2);
    public static readonly IPAddress Greet421Primary = Ip(3);
    public static readonly IPAddress Greet421Backup = Ip(4);
    public static readonly IPAddress Silent = Ip(5);              // accepts, never greets
    public static readonly IPAddress SilentBackup = Ip(6);
    public static readonly IPAddress Rcpt4xxPrimary = Ip(7);
    public static readonly IPAddress FourXxBackup = Ip(8);        // backup of rcpt4xx and ehlo4xx
    public static readonly IPAddress Ehlo4xxPrimary = Ip(9);
    public static readonly IPAddress Alpha = Ip(10);
    public static readonly IPAddress Beta = Ip(11);
    public static readonly IPAddress Elsewhere = Ip(12);
    public static readonly IPAddress Idn = Ip(13);
    public static readonly IPAddress Bulk = Ip(14);
    public static readonly IPAddress MailRejectPrimary = Ip(15);
    public static readonly IPAddress MailRejectBackup = Ip(16);
    public static readonly IPAddress DataReject = Ip(17);
    public static readonly IPAddress Gmail421 = Ip(18);
    public static readonly IPAddress Greylist = Ip(20);
    public static readonly IPAddress Sink = Ip(21);
    public static readonly IPAddress NullMxTrap = Ip(22);
    public static readonly IPAddress Private = Ip(30);
    public static readonly IPAddress BlackholePrimary = Ip(50);
    public static readonly IPAddress BlackholeBackup = Ip(51);
    public static readonly IPAddress Slow = Ip(52);
    public static readonly IPAddress Pool = Ip(53);
    public static readonly IPAddress[] Concurrency = [Ip(60), Ip(61), Ip(62), Ip(63)];
    public static readonly IPAddress DependencyInjection = Ip(70);

    /// <summary>mx.dualstack's and mx.v4only's IPv4 address; mx.dualstack also has ::1.</summary>
    public static readonly IPAddress DualStack = Ip(80);

    /// <summary>Not in any zone: the target of a fake resolver in the DI tests.</summary>
    public static readonly IPAddress FakeResolverTarget = Ip(71);

    public static IPEndPoint EndPoint(IPAddress address) => new(address, Port);

    private static IPAddress Ip(int last) => IPAddress.Parse("127.0.26." + last);
}
