using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;

namespace DirectMail.Tests.Infrastructure.Postfix;

/// <summary>
/// One message as Postfix's virtual(8) stored it in the Maildir: the headers Postfix put in front of the client's
/// message (Return-Path, X-Original-To, Delivered-To, Received), and the client's message itself.
/// </summary>
public sealed class StoredMessage
{
    private static readonly string[] PrependedNames = ["Return-Path:", "X-Original-To:", "Delivered-To:", "Received:"];
    private static readonly Regex ReceivedId = new(@"\sid ([0-9A-F]+)", RegexOptions.CultureInvariant);

    private StoredMessage(string path, byte[] raw, IReadOnlyList<string> prepended, byte[] content)
    {
        Path = path;
        Raw = raw;
        PrependedHeaders = prepended;
        Content = content;
        foreach (var header in prepended)
        {
            if (header.StartsWith("Return-Path:", StringComparison.Ordinal))
            {
                ReturnPath = header["Return-Path:".Length..].Trim();
            }
            else if (header.StartsWith("Delivered-To:", StringComparison.Ordinal))
            {
                DeliveredTo = header["Delivered-To:".Length..].Trim();
            }
            else if (header.StartsWith("Received:", StringComparison.Ordinal) && Received is null)
            {
                // The first Received is the one Postfix's smtpd added.
                Received = header;
                var id = ReceivedId.Match(header);
                QueueId = id.Success ? id.Groups[1].Value : null;
            }
        }
    }

    /// <summary>The Maildir file.</summary>
    public string Path { get; }

    /// <summary>The file's bytes as Postfix wrote them (LF line ends).</summary>
    public byte[] Raw { get; }

    /// <summary>The headers Postfix added in front, unfolded with their line breaks kept.</summary>
    public IReadOnlyList<string> PrependedHeaders { get; }

    /// <summary>The client's message as stored, with Postfix's LF line ends turned back into CRLF.</summary>
    public byte[] Content { get; }

    public string? ReturnPath { get; }

    public string? DeliveredTo { get; }

    /// <summary>The Received header Postfix's smtpd added (it says ESMTPS and the TLS version for encrypted sessions).</summary>
    public string? Received { get; }

    /// <summary>The queue id from that Received header: the one in the server's "queued as" reply.</summary>
    public string? QueueId { get; }

    public static StoredMessage Read(string path)
    {
        var raw = File.ReadAllBytes(path);
        var prepended = new List<string>();
        var position = 0;
        while (StartsWithPrependedHeader(raw.AsSpan(position)))
        {
            // The header with its continuation lines (starting with a space or tab).
            var start = position;
            do
            {
                var end = Array.IndexOf(raw, (byte)'\n', position);
                position = end < 0 ? raw.Length : end + 1;
            }
            while (position < raw.Length && raw[position] is (byte)' ' or (byte)'\t');

            prepended.Add(Encoding.UTF8.GetString(raw, start, position - start));
        }

        return new StoredMessage(path, raw, prepended, LfToCrLf(raw.AsSpan(position)));
    }

    private static bool StartsWithPrependedHeader(ReadOnlySpan<byte> rest)
    {
        foreach (var name in PrependedNames)
        {
            if (rest.StartsWith(Encoding.ASCII.GetBytes(name)))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] LfToCrLf(ReadOnlySpan<byte> stored)
    {
        var output = new MemoryStream(stored.Length + (stored.Length / 16));
        foreach (var b in stored)
        {
            if (b == (byte)'\n')
            {
                output.WriteByte((byte)'\r');
            }

            output.WriteByte(b);
        }

        return output.ToArray();
    }
}
