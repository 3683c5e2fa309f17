namespace DirectMail.Suppression;

/// <summary>How a recipient came onto the suppression list.</summary>
public enum SuppressionSource
{
    /// <summary>An operator or the application added it (<c>directmail suppression add</c>).</summary>
    Manual,

    /// <summary>A bounce that came back said it hard-bounced (<see cref="BounceIngester"/>).</summary>
    Bounce,

    /// <summary>A server refused it permanently as invalid during a send (<see cref="Delivery.DirectMailOptions.SuppressRefusedRecipients"/>).</summary>
    Refusal,
}
