using System.Collections.Generic;

namespace DirectMail.Queue;

/// <summary>
/// A limit shared by every destination whose MX hosts match: all domains hosted by one provider (Google Workspace,
/// Microsoft 365) count against the provider's limit, not one each. One entry of
/// <see cref="MailQueueOptions.DestinationLimits"/>, bindable from configuration
/// (<c>DirectMail:Queue:DestinationLimits:0:Name</c>, <c>...:MxHosts:0</c>, ...). With a store that shares limits
/// (<see cref="IQueueLimitStore"/>), the limit holds over every instance on the store.
/// </summary>
public sealed class DestinationLimit
{
    /// <summary>The limit's name, which is its key: destinations matching the rule share one bucket and one set of connection slots. Required, unique.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>
    /// The MX host names the rule matches, each exact (<c>mx.example.net</c>) or a suffix (<c>*.google.com</c> matches
    /// <c>aspmx.l.google.com</c>, not <c>google.com</c>), case-insensitive. A destination matches when any of its MX hosts
    /// does; the first matching rule wins.
    /// </summary>
    public List<string> MxHosts { get; set; } = new();

    /// <summary>The most messages per second (one message is one transaction to one domain). 0 (default) for no rate limit.</summary>
    public double MaxMessagesPerSecond { get; set; }

    /// <summary>How many messages may go at once before the rate applies (the bucket's capacity). 0 (default): one second's worth, at least 1.</summary>
    public double Burst { get; set; }

    /// <summary>
    /// The most deliveries in progress at once (each is one SMTP connection while it lasts). 0 (default) for no limit.
    /// A rule with neither limit exempts its hosts from the per-destination defaults.
    /// </summary>
    public int MaxConnections { get; set; }
}
