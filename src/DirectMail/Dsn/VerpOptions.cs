using System;

namespace DirectMail.Dsn;

/// <summary>
/// Variable envelope return paths for every send (<see cref="Delivery.DirectMailOptions.Verp"/>, bound from
/// <c>DirectMail:Verp</c>): with <see cref="BounceDomain"/> set, each recipient gets a transaction of its own whose MAIL
/// FROM is <c>Prefix+tag-local=domain@BounceDomain</c> (<see cref="VerpAddress"/>), the tag being the queue id of a
/// queued message (or an id made for the send), so that a bounce that comes back names the recipient and the message
/// whatever its format. The bounce domain's MX must take those addresses (a catch-all for <c>Prefix+*</c>) and hand the
/// bounces to <see cref="Suppression.BounceIngester"/>. The null sender (notices) is never rewritten.
/// </summary>
public sealed class VerpOptions
{
    /// <summary>The domain bounces are sent to, for example <c>bounces.example.com</c>; null (default): VERP is off, MAIL FROM is the envelope's sender.</summary>
    public string? BounceDomain { get; set; }

    /// <summary>The local part's fixed start. Default <c>bounces</c>.</summary>
    public string Prefix { get; set; } = "bounces";

    /// <summary>True when <see cref="BounceDomain"/> is set.</summary>
    public bool IsEnabled => !string.IsNullOrEmpty(BounceDomain);

    internal VerpOptions Copy() => (VerpOptions)MemberwiseClone();

    /// <summary>The problem with these settings, or null (the same rules as <see cref="VerpAddress.Encode"/>).</summary>
    internal string? Error()
    {
        if (string.IsNullOrEmpty(Prefix))
        {
            return "Prefix is required.";
        }

        if (!IsEnabled)
        {
            return null;
        }

        try
        {
            VerpAddress.Encode(Prefix, "x", "a@b", BounceDomain!);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }
}
