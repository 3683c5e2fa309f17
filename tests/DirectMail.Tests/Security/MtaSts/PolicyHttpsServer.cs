using System;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>
/// Kestrel on one loopback address, port 443, serving the MTA-STS policy hosts <c>mta-sts.&lt;domain&gt;</c> of the
/// tests: the certificate is chosen by SNI (each host's own, from the tests' CA, unless a test sets another), and each
/// host's answer is set by the test. It counts the requests per host.
/// </summary>
public sealed class PolicyHttpsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, X509Certificate2> _certificates = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _handlers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.OrdinalIgnoreCase);
    private readonly TestCertificateAuthority _ca;

    private PolicyHttpsServer(IPAddress address, TestCertificateAuthority ca)
    {
        _ca = ca;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, 443, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, name) => name is null ? null : _certificates.GetOrAdd(name, n => _ca.Issue(n)),
        })));
        _app = builder.Build();
        _app.Run(async context =>
        {
            var host = context.Request.Host.Host;
            _requests.AddOrUpdate(host, 1, (_, n) => n + 1);
            if (_handlers.TryGetValue(host, out var handler))
            {
                await handler(context);
                return;
            }

            context.Response.StatusCode = 404;
        });
    }

    public static async Task<PolicyHttpsServer> StartAsync(IPAddress address, TestCertificateAuthority ca)
    {
        var server = new PolicyHttpsServer(address, ca);
        await server._app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return server;
    }

    /// <summary>Serves <paramref name="policy"/> as text/plain at /.well-known/mta-sts.txt of mta-sts.<paramref name="domain"/>.</summary>
    public void ServePolicy(string domain, string policy) => Handle(domain, async context =>
    {
        if (context.Request.Path != "/.well-known/mta-sts.txt")
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(policy);
    });

    /// <summary>Sets how mta-sts.<paramref name="domain"/> answers.</summary>
    public void Handle(string domain, Func<HttpContext, Task> handler) => _handlers["mta-sts." + domain] = handler;

    /// <summary>Presents <paramref name="certificate"/> for mta-sts.<paramref name="domain"/> instead of its own.</summary>
    public void Present(string domain, X509Certificate2 certificate) => _certificates["mta-sts." + domain] = certificate;

    /// <summary>How many requests mta-sts.<paramref name="domain"/> got.</summary>
    public int Requests(string domain) => _requests.TryGetValue("mta-sts." + domain, out var n) ? n : 0;

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
