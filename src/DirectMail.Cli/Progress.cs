using System;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;

namespace DirectMail.Cli;

/// <summary>
/// One status line on stderr, rewritten in place, for long work: domains done of several, octets sent of a large
/// message. Only when stderr is a terminal; a pipe or a file gets nothing. The mailer reports each domain as it
/// settles (<see cref="DeliveryProgress"/>); the octets come from <see cref="ProgressContent"/>.
/// </summary>
internal sealed class Progress : IProgress<DeliveryProgress>, IDisposable
{
    private readonly object _gate = new();
    private readonly TextWriter _error;
    private readonly int _domains;
    private int _domainsDone;
    private long _sent;
    private long? _total;
    private long _lastDrawn = long.MinValue;
    private bool _visible;

    private Progress(TextWriter error, int domains)
    {
        _error = error;
        _domains = domains;
    }

    /// <summary>A progress line, or null when stderr is not a terminal.</summary>
    public static Progress? TryCreate(int domains) => Console.IsErrorRedirected ? null : new Progress(Console.Error, domains);

    /// <summary>A domain settled: one more done. Called by the mailer, from several domains' tasks at once.</summary>
    public void Report(DeliveryProgress value)
    {
        if (value.Kind != DeliveryProgressKind.DomainSettled)
        {
            return;
        }

        lock (_gate)
        {
            _domainsDone++;
            Draw();
        }
    }

    public void Sent(long octets, long? total)
    {
        lock (_gate)
        {
            _sent += octets;
            _total = total;

            // Redraw ten times a second at most: a terminal is slow.
            var now = Environment.TickCount64;
            if (now - _lastDrawn >= 100 || _sent == total)
            {
                _lastDrawn = now;
                Draw();
            }
        }
    }

    /// <summary>Removes the line (before other output, and at the end).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            if (_visible)
            {
                _error.Write("\r\u001b[K");
                _error.Flush();
                _visible = false;
            }
        }
    }

    public void Dispose() => Clear();

    private void Draw()
    {
        var text = "sending";
        if (_domains > 1)
        {
            text += string.Create(CultureInfo.InvariantCulture, $": {_domainsDone} of {_domains} domains done");
        }

        if (_sent > 0)
        {
            text += _domains <= 1 && _total is { } total && total > 0
                ? string.Create(CultureInfo.InvariantCulture, $", {Size(_sent)} of {Size(total)} of message data written")
                : $", {Size(_sent)} of message data written";
        }

        _error.Write("\r\u001b[K" + text);
        _error.Flush();
        _visible = true;
    }

    private static string Size(long octets) => octets >= 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{octets / (1024.0 * 1024.0):F1} MB")
        : string.Create(CultureInfo.InvariantCulture, $"{octets / 1024.0:F0} KB");
}

/// <summary>Content that reports the octets written to <see cref="Progress"/>: otherwise exactly the content it wraps.</summary>
internal sealed class ProgressContent(SmtpContent inner, Progress progress) : SmtpContent
{
    public override bool RequiresSmtpUtf8 => inner.RequiresSmtpUtf8;

    internal override bool TlsRequiredNo => inner.TlsRequiredNo;

    public override long? GetLength(SmtpCapabilities capabilities) => inner.GetLength(capabilities);

    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => inner.GetBodyType(capabilities);

    public override ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken) =>
        inner.WriteToAsync(new CountingStream(destination, inner.GetLength(capabilities), progress), capabilities, cancellationToken);

    private sealed class CountingStream(Stream inner, long? total, Progress progress) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            progress.Sent(count, total);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            progress.Sent(buffer.Length, total);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            progress.Sent(buffer.Length, total);
        }
    }
}
