using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;

namespace DirectMail.Mime;

/// <summary>
/// Content carried in a message besides its text: an <see cref="Attachment"/> or an <see cref="InlineResource"/>.
/// The content is read only while the message is written, in chunks, and always sent base64-encoded. Content from a
/// stream that <see cref="Delivery.DirectMailer"/> must read more than once at a time (a message to several domains)
/// or again (a forward-only stream) is read once, before it connects, into a private spool that lives for the send.
/// </summary>
public abstract class EmailResource
{
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly Stream? _stream;
    private readonly long _streamStart;
    private readonly string? _path;
    private readonly ContentSpool? _spool;
    private int _streamUsed;

    private protected EmailResource(ReadOnlyMemory<byte> bytes, string? fileName, string? contentType, bool fileNameRequired)
    {
        _bytes = bytes;
        FileName = ValidateFileName(fileName, fileNameRequired);
        ContentType = ResolveContentType(contentType, FileName);
    }

    private protected EmailResource(Stream stream, string? fileName, string? contentType, bool fileNameRequired)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        }

        _stream = stream;
        _streamStart = stream.CanSeek ? stream.Position : -1;
        FileName = ValidateFileName(fileName, fileNameRequired);
        ContentType = ResolveContentType(contentType, FileName);
    }

    private protected EmailResource(string path, string? fileName, string? contentType)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The file '{full}' does not exist.", full);
        }

        _path = full;
        FileName = ValidateFileName(fileName ?? Path.GetFileName(full), required: true);
        ContentType = ResolveContentType(contentType, FileName);
    }

    /// <summary>A copy of <paramref name="source"/> whose content is <paramref name="spool"/>, which stands for its stream.</summary>
    private protected EmailResource(EmailResource source, ContentSpool spool)
    {
        _spool = spool;
        FileName = source.FileName;
        ContentType = source.ContentType;
    }

    /// <summary>The file name given to the recipient (non-ASCII is written with RFC 2231); null when there is none.</summary>
    public string? FileName { get; }

    /// <summary>The MIME type, <c>type/subtype</c> in lower case; guessed from the file name's extension when not given.</summary>
    public string ContentType { get; }

    /// <summary>Opens the content for one write: the bytes, the file, or the stream rewound to where it stood.</summary>
    internal Stream? OpenStream()
    {
        if (_spool is not null)
        {
            return _spool.OpenRead();
        }

        if (_path is not null)
        {
            return new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }

        if (_stream is null)
        {
            return null;
        }

        if (_stream.CanSeek)
        {
            _stream.Position = _streamStart;
        }
        else if (Interlocked.Exchange(ref _streamUsed, 1) != 0)
        {
            throw new InvalidOperationException($"The content of '{FileName}' came from a forward-only stream and has already been sent once; give a seekable stream, bytes or a file to allow another attempt.");
        }

        return _stream;
    }

    /// <summary>The length of the content in octets when it is known without reading it; null for a forward-only stream.</summary>
    internal long? KnownLength
    {
        get
        {
            if (_spool is not null)
            {
                return _spool.Length;
            }

            if (_path is not null)
            {
                return new FileInfo(_path).Length;
            }

            if (_stream is null)
            {
                return _bytes.Length;
            }

            return _stream.CanSeek ? _stream.Length - _streamStart : null;
        }
    }

    /// <summary>True when <see cref="OpenStream"/> returns a stream the writer must dispose (a file it opened).</summary>
    internal bool OwnsStream => _path is not null || _spool is not null;

    /// <summary>
    /// True when the content comes from a caller's stream that cannot be read as the deliveries of a send need:
    /// by several at once (<paramref name="concurrent"/>: one stream has one position), or again after a fallback
    /// (a forward-only stream).
    /// </summary>
    internal bool NeedsSpool(bool concurrent) => _stream is not null && (concurrent || !_stream.CanSeek);

    /// <summary>Reads the stream once into a spool of <paramref name="spools"/>, and returns a copy of this resource over it.</summary>
    internal async ValueTask<EmailResource> SpoolAsync(ContentSpools spools, CancellationToken cancellationToken)
    {
        var stream = OpenStream()!;
        var spool = spools.Create();
        await ContentSpool.FillAsync(stream, spool, static _ => { }, cancellationToken).ConfigureAwait(false);
        return WithSpool(spool);
    }

    /// <summary>A copy of this resource (name, type, Content-ID) whose content is <paramref name="spool"/>.</summary>
    private protected abstract EmailResource WithSpool(ContentSpool spool);

    /// <summary>The content when it is in memory.</summary>
    internal ReadOnlyMemory<byte> Bytes => _bytes;

    private static string? ValidateFileName(string? fileName, bool required)
    {
        if (fileName is null)
        {
            return required ? throw new ArgumentNullException(nameof(fileName)) : null;
        }

        MimeSyntax.ThrowOnControl(fileName, nameof(fileName), "file name");
        if (fileName.Length == 0)
        {
            throw new ArgumentException("The file name is empty.", nameof(fileName));
        }

        if (fileName.Length > 255)
        {
            throw new ArgumentException("The file name is longer than 255 characters.", nameof(fileName));
        }

        return fileName;
    }

    private static string ResolveContentType(string? contentType, string? fileName)
    {
        if (contentType is not null)
        {
            return MimeSyntax.ValidateContentType(contentType, nameof(contentType));
        }

        var extension = fileName is null ? default : Path.GetExtension(fileName.AsSpan());
        return extension switch
        {
            _ when extension.Equals(".pdf", StringComparison.OrdinalIgnoreCase) => "application/pdf",
            _ when extension.Equals(".png", StringComparison.OrdinalIgnoreCase) => "image/png",
            _ when extension.Equals(".jpg", StringComparison.OrdinalIgnoreCase) => "image/jpeg",
            _ when extension.Equals(".jpeg", StringComparison.OrdinalIgnoreCase) => "image/jpeg",
            _ when extension.Equals(".gif", StringComparison.OrdinalIgnoreCase) => "image/gif",
            _ when extension.Equals(".webp", StringComparison.OrdinalIgnoreCase) => "image/webp",
            _ when extension.Equals(".svg", StringComparison.OrdinalIgnoreCase) => "image/svg+xml",
            _ when extension.Equals(".txt", StringComparison.OrdinalIgnoreCase) => "text/plain",
            _ when extension.Equals(".csv", StringComparison.OrdinalIgnoreCase) => "text/csv",
            _ when extension.Equals(".htm", StringComparison.OrdinalIgnoreCase) => "text/html",
            _ when extension.Equals(".html", StringComparison.OrdinalIgnoreCase) => "text/html",
            _ when extension.Equals(".ics", StringComparison.OrdinalIgnoreCase) => "text/calendar",
            _ when extension.Equals(".json", StringComparison.OrdinalIgnoreCase) => "application/json",
            _ when extension.Equals(".xml", StringComparison.OrdinalIgnoreCase) => "application/xml",
            _ when extension.Equals(".zip", StringComparison.OrdinalIgnoreCase) => "application/zip",
            _ when extension.Equals(".docx", StringComparison.OrdinalIgnoreCase) => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            _ when extension.Equals(".xlsx", StringComparison.OrdinalIgnoreCase) => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            _ => "application/octet-stream",
        };
    }
}
