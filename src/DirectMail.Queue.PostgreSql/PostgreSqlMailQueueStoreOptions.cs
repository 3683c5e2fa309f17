using System;
using System.Text.RegularExpressions;

namespace DirectMail.Queue.PostgreSql;

/// <summary>How a <see cref="PostgreSqlMailQueueStore"/> uses its database.</summary>
public sealed partial class PostgreSqlMailQueueStoreOptions
{
    /// <summary>
    /// The PostgreSQL schema that holds the queue's tables, created with them on first use. Default <c>directmail</c>.
    /// Lower-case letters, digits and underscores, starting with a letter or an underscore (it is written into SQL
    /// unquoted); two queues in one database use two schemas.
    /// </summary>
    public string SchemaName { get; set; } = "directmail";

    internal void Validate()
    {
        if (SchemaName is null || !Identifier().IsMatch(SchemaName))
        {
            throw new ArgumentException(
                $"The schema name '{SchemaName}' is not a plain PostgreSQL identifier: lower-case letters, digits and underscores, starting with a letter or an underscore, at most 63 characters.",
                nameof(SchemaName));
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
