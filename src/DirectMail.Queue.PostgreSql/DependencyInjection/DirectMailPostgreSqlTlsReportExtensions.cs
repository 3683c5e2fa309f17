using System;
using DirectMail.Queue.PostgreSql;
using DirectMail.Queue.PostgreSql.Internal;
using DirectMail.Security.TlsRpt;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Shares TLS report claims (RFC 8460) through a PostgreSQL schema.</summary>
public static class DirectMailPostgreSqlTlsReportExtensions
{
    /// <summary>
    /// Keeps which TLS reports are claimed and sent in the table <c>tlsrpt_claims</c> of the queue's schema, so that of
    /// the instances on that database exactly one sends each domain's daily report. Use with <c>AddTlsReporting</c>.
    /// </summary>
    /// <param name="builder">The builder <c>AddDirectMail</c> returned.</param>
    /// <param name="connectionString">The database.</param>
    /// <param name="schemaName">The schema (the queue's; default <c>directmail</c>).</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddPostgreSqlTlsReportStore(this IDirectMailBuilder builder, string connectionString, string? schemaName = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var options = new PostgreSqlMailQueueStoreOptions();
        if (schemaName is not null)
        {
            options.SchemaName = schemaName;
        }

        options.Validate();
        builder.Services.TryAddSingleton<ITlsReportStore>(_ => new PostgreSqlTlsReportStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true, options.SchemaName));
        return builder;
    }
}
