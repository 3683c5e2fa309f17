using System;
using DirectMail.Delivery;
using DirectMail.Smtp;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// Mailer options for tests whose MX hosts are scripted servers on loopback addresses: private targets allowed, no
/// TLS, short timeouts, no outer retry (each test turns on what it checks).
/// </summary>
internal static class LoopbackMailerOptions
{
    public static DirectMailOptions Create(int port, Action<DirectMailOptions>? configure = null)
    {
        var options = new DirectMailOptions
        {
            HeloName = "client.test.example",
            Port = port,
            TlsMode = SmtpTlsMode.None,
            AllowPrivateTargets = true,
            Timeouts =
            {
                Connect = TimeSpan.FromSeconds(2),
                Greeting = TimeSpan.FromSeconds(2),
                Command = TimeSpan.FromSeconds(2),
            },
            MaxRetryAttempts = 0,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        };
        configure?.Invoke(options);
        return options;
    }
}
