namespace DirectMail.IO;

/// <summary>
/// Keeps the octets of a content that cannot be written twice (one whose length is unknown, such as a content a
/// caller wrote), so that pass 2 writes them after the signature: the mailer's own spool (<see cref="ContentSpool"/>),
/// in pooled memory up to 64 KiB, in a private temporary file (owner only, unlinked at once) above that.
/// </summary>
internal sealed class DkimSpool : ContentSpool
{
    public const int MemoryLimit = 64 * 1024;

    public DkimSpool()
        : base(MemoryLimit, "directmail-dkim-")
    {
    }
}
