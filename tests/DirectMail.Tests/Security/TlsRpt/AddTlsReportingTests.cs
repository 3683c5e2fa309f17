using System;
using System.Collections.Generic;
using System.IO;
using DirectMail.Delivery;
using DirectMail.Security.TlsRpt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary><c>AddTlsReporting</c>: the mailer counts from its creation, the options bind and are checked, the store is shared.</summary>
public sealed class AddTlsReportingTests
{
    [Fact]
    public void The_mailer_counts_its_tls_sessions_from_its_creation()
    {
        using var provider = Services(configure: Valid).BuildServiceProvider();

        var mailer = provider.GetRequiredService<DirectMailer>();

        Assert.IsType<TlsReportAggregator>(mailer.Delivery.TlsResults);
        Assert.Single(provider.GetServices<IHostedService>(), s => s.GetType().Name == "TlsReportingHostedService");
    }

    [Fact]
    public void Options_bind_from_the_configuration_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DirectMail:TlsReporting:OrganizationName"] = "Bound Inc.",
            ["DirectMail:TlsReporting:SubmitterDomain"] = "bound.example",
            ["DirectMail:TlsReporting:ReportSender"] = "tlsrpt@bound.example",
            ["DirectMail:TlsReporting:MaxSendDelay"] = "00:10:00",
        }).Build();
        using var provider = Services(configuration).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<TlsReportingOptions>>().Value;

        Assert.Equal(("Bound Inc.", "bound.example", "tlsrpt@bound.example", TimeSpan.FromMinutes(10)), (options.OrganizationName, options.SubmitterDomain, options.ReportSender, options.MaxSendDelay));
    }

    [Fact]
    public void Missing_required_options_fail_when_the_mailer_is_made()
    {
        // A report without a submitter or sender would be refused by every receiver: caught at start, not at midnight.
        using var provider = Services(configure: o => o.OrganizationName = "Only a name").BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<DirectMailer>());
        Assert.Contains("SubmitterDomain", error.Message);
    }

    [Fact]
    public void A_sqlite_store_registered_beside_it_is_the_one_used()
    {
        var directory = Directory.CreateTempSubdirectory("directmail-tlsrpt-di-").FullName;
        try
        {
            var services = new ServiceCollection();
            services.AddDirectMail(o => o.HeloName = "client.test.example").AddTlsReporting(Valid).AddSqliteTlsReportStore(directory);
            using var provider = services.BuildServiceProvider();

            Assert.IsType<DirectMail.Queue.Sqlite.Internal.SqliteTlsReportStore>(provider.GetRequiredService<ITlsReportStore>());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Valid(TlsReportingOptions o)
    {
        o.OrganizationName = "Sender Inc.";
        o.SubmitterDomain = "sender.example";
        o.ReportSender = "tlsrpt-noreply@sender.example";
    }

    private static ServiceCollection Services(IConfiguration? configuration = null, Action<TlsReportingOptions>? configure = null)
    {
        var services = new ServiceCollection();
        if (configuration is not null)
        {
            services.AddSingleton(configuration);
        }

        services.AddDirectMail(o => o.HeloName = "client.test.example").AddTlsReporting(configure);
        return services;
    }
}
