using System;
using System.IO;
using DirectMail.IO;

namespace DirectMail.Mime;

/// <summary>A file attached to a message (<c>Content-Disposition: attachment</c>), in a multipart/mixed body.</summary>
public sealed class Attachment : EmailResource
{
    private Attachment(ReadOnlyMemory<byte> bytes, string fileName, string? contentType)
        : base(bytes, fileName, contentType, fileNameRequired: true)
    {
    }

    private Attachment(Stream stream, string fileName, string? contentType)
        : base(stream, fileName, contentType, fileNameRequired: true)
    {
    }

    private Attachment(string path, string? fileName, string? contentType)
        : base(path, fileName, contentType)
    {
    }

    private Attachment(Attachment source, ContentSpool spool)
        : base(source, spool)
    {
    }

    /// <summary>An attachment from bytes in memory (not copied: do not change them until the message is sent).</summary>
    /// <param name="content">The content.</param>
    /// <param name="fileName">The file name the recipient sees, any script.</param>
    /// <param name="contentType">The MIME type; null to guess it from the file name's extension.</param>
    /// <exception cref="ArgumentException">The file name holds a control character (header injection), or the MIME type is malformed.</exception>
    public static Attachment FromBytes(ReadOnlyMemory<byte> content, string fileName, string? contentType = null) => new(content, fileName, contentType);

    /// <summary>
    /// An attachment read from a stream while the message is written. A seekable stream is rewound to where it
    /// stood for every attempt; a forward-only one can be sent once. The stream stays open: it belongs to the caller.
    /// </summary>
    /// <param name="content">The content.</param>
    /// <param name="fileName">The file name the recipient sees, any script.</param>
    /// <param name="contentType">The MIME type; null to guess it from the file name's extension.</param>
    /// <exception cref="ArgumentException">The stream cannot be read; the file name holds a control character; the MIME type is malformed.</exception>
    public static Attachment FromStream(Stream content, string fileName, string? contentType = null) => new(content, fileName, contentType);

    /// <summary>An attachment read from a file while the message is written.</summary>
    /// <param name="path">The file.</param>
    /// <param name="fileName">The file name the recipient sees; null for the file's own name.</param>
    /// <param name="contentType">The MIME type; null to guess it from the file name's extension.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The file name holds a control character; the MIME type is malformed.</exception>
    public static Attachment FromFile(string path, string? fileName = null, string? contentType = null) => new(path, fileName, contentType);

    private protected override EmailResource WithSpool(ContentSpool spool) => new Attachment(this, spool);
}
