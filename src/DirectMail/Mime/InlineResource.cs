using System;
using System.IO;
using DirectMail.IO;

namespace DirectMail.Mime;

/// <summary>
/// A resource the HTML body shows by reference, <c>&lt;img src="cid:logo@example.com"&gt;</c> (RFC 2392), sent in a
/// multipart/related body with <c>Content-Disposition: inline</c>.
/// </summary>
public sealed class InlineResource : EmailResource
{
    private InlineResource(ReadOnlyMemory<byte> bytes, string contentId, string? fileName, string? contentType)
        : base(bytes, fileName, contentType, fileNameRequired: false)
    {
        ContentId = ValidateContentId(contentId);
    }

    private InlineResource(Stream stream, string contentId, string? fileName, string? contentType)
        : base(stream, fileName, contentType, fileNameRequired: false)
    {
        ContentId = ValidateContentId(contentId);
    }

    private InlineResource(string path, string contentId, string? fileName, string? contentType)
        : base(path, fileName, contentType)
    {
        ContentId = ValidateContentId(contentId);
    }

    private InlineResource(InlineResource source, ContentSpool spool)
        : base(source, spool)
    {
        ContentId = source.ContentId;
    }

    /// <summary>The Content-ID without angle brackets: the HTML refers to it as <c>cid:</c> followed by this value.</summary>
    public string ContentId { get; }

    /// <summary>An inline resource from bytes in memory (not copied).</summary>
    /// <param name="content">The content.</param>
    /// <param name="contentId">The Content-ID without angle brackets, for example <c>logo@example.com</c>.</param>
    /// <param name="contentType">The MIME type, for example <c>image/png</c>; null to guess it from the file name.</param>
    /// <param name="fileName">An optional file name.</param>
    /// <exception cref="ArgumentException">The Content-ID or file name holds a control character (header injection) or is malformed.</exception>
    public static InlineResource FromBytes(ReadOnlyMemory<byte> content, string contentId, string? contentType = null, string? fileName = null) => new(content, contentId, fileName, contentType);

    /// <summary>An inline resource read from a stream while the message is written (rewound per attempt when seekable).</summary>
    /// <param name="content">The content; it stays open.</param>
    /// <param name="contentId">The Content-ID without angle brackets.</param>
    /// <param name="contentType">The MIME type; null to guess it from the file name.</param>
    /// <param name="fileName">An optional file name.</param>
    /// <exception cref="ArgumentException">The stream cannot be read, or the Content-ID or file name is malformed.</exception>
    public static InlineResource FromStream(Stream content, string contentId, string? contentType = null, string? fileName = null) => new(content, contentId, fileName, contentType);

    /// <summary>An inline resource read from a file while the message is written.</summary>
    /// <param name="path">The file.</param>
    /// <param name="contentId">The Content-ID without angle brackets.</param>
    /// <param name="contentType">The MIME type; null to guess it from the file name.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The Content-ID is malformed.</exception>
    public static InlineResource FromFile(string path, string contentId, string? contentType = null) => new(path, contentId, null, contentType);

    private protected override EmailResource WithSpool(ContentSpool spool) => new InlineResource(this, spool);

    private static string ValidateContentId(string contentId)
    {
        MimeSyntax.ValidateId(contentId, nameof(contentId), "Content-ID");
        return contentId;
    }
}
