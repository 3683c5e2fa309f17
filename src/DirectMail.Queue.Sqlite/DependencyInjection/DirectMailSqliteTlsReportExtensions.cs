using System;
using DirectMail.Queue.Sqlite;
using DirectMail.Queue.Sqlite.Internal;
using DirectMail.Security.TlsRpt;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Shares TLS report claims (RFC 8460) through the SQLite store's directory.</summary>
public static class DirectMailSqliteTlsReportExtensions
{
    /// <summary>
    /// Keeps which TLS reports are claimed and sent in <c>tlsrpt.db</c> in <paramref name="directory"/> (normally the
    /// queue's), so that of the processes on that directory exactly one sends each domain's daily report. Use with
    /// <c>AddTlsReporting</c>.
    /// </summary>
    /// <param name="builder">The builder <c>AddDirectMail</c> returned.</param>
    /// <param name="directory">The directory (the queue's directory of <c>AddSqliteQueue</c>).</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddSqliteTlsReportStore(this IDirectMailBuilder builder, string directory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        builder.Services.TryAddSingleton<ITlsReportStore>(_ => new SqliteTlsReportStore(directory, new SqliteMailQueueStoreOptions().BusyTimeout));
        return builder;
    }
}
