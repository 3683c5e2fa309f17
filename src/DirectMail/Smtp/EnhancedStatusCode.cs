using System;
using System.Globalization;

namespace DirectMail.Smtp;

/// <summary>
/// An enhanced mail system status code (RFC 3463): <c>class.subject.detail</c>, for example <c>5.1.1</c>
/// (bad destination mailbox) or <c>4.7.0</c> (a security or policy reason, try later).
/// </summary>
public readonly struct EnhancedStatusCode : IEquatable<EnhancedStatusCode>
{
    /// <summary>Creates a status code.</summary>
    /// <param name="class">2 (success), 4 (persistent transient failure) or 5 (permanent failure).</param>
    /// <param name="subject">0 to 999.</param>
    /// <param name="detail">0 to 999.</param>
    public EnhancedStatusCode(int @class, int subject, int detail)
    {
        if (@class is not (2 or 4 or 5))
        {
            throw new ArgumentOutOfRangeException(nameof(@class), @class, "The class of an enhanced status code is 2, 4 or 5.");
        }

        if ((uint)subject > 999)
        {
            throw new ArgumentOutOfRangeException(nameof(subject), subject, "The subject is 0 to 999.");
        }

        if ((uint)detail > 999)
        {
            throw new ArgumentOutOfRangeException(nameof(detail), detail, "The detail is 0 to 999.");
        }

        Class = @class;
        Subject = subject;
        Detail = detail;
    }

    /// <summary>2, 4 or 5.</summary>
    public int Class { get; }

    /// <summary>The subject (1 addressing, 2 mailbox, 3 mail system, 4 network, 5 protocol, 6 content, 7 security or policy).</summary>
    public int Subject { get; }

    /// <summary>The detail within the subject.</summary>
    public int Detail { get; }

    /// <summary>
    /// Reads a status code at the start of <paramref name="text"/>: <c>class.subject.detail</c> followed by a space or the end.
    /// </summary>
    /// <param name="text">Reply text, for example <c>5.1.1 User unknown</c>.</param>
    /// <param name="code">The code read.</param>
    /// <param name="length">How many characters it took, not counting the space after it.</param>
    /// <returns>True when the text starts with a well-formed code.</returns>
    public static bool TryParse(ReadOnlySpan<char> text, out EnhancedStatusCode code, out int length)
    {
        code = default;
        length = 0;
        if (text.Length < 5 || text[1] != '.' || text[0] is not ('2' or '4' or '5'))
        {
            return false;
        }

        var position = 2;
        if (!TryReadNumber(text, ref position, out var subject) || position >= text.Length || text[position] != '.')
        {
            return false;
        }

        position++;
        if (!TryReadNumber(text, ref position, out var detail))
        {
            return false;
        }

        if (position < text.Length && text[position] != ' ' && text[position] != '\t')
        {
            return false;
        }

        code = new EnhancedStatusCode(text[0] - '0', subject, detail);
        length = position;
        return true;
    }

    /// <summary>Parses <c>class.subject.detail</c>.</summary>
    /// <exception cref="FormatException">The text is not a status code.</exception>
    public static EnhancedStatusCode Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text, out var code, out var length) || length != text.Length)
        {
            throw new FormatException($"'{text}' is not an enhanced status code (class.subject.detail).");
        }

        return code;
    }

    private static bool TryReadNumber(ReadOnlySpan<char> text, ref int position, out int value)
    {
        value = 0;
        var start = position;
        while (position < text.Length && (uint)(text[position] - '0') <= 9)
        {
            if (position - start == 3)
            {
                return false;
            }

            value = (value * 10) + (text[position] - '0');
            position++;
        }

        return position > start;
    }

    /// <inheritdoc />
    public bool Equals(EnhancedStatusCode other) => Class == other.Class && Subject == other.Subject && Detail == other.Detail;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is EnhancedStatusCode other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Class, Subject, Detail);

    /// <summary>Equality.</summary>
    public static bool operator ==(EnhancedStatusCode left, EnhancedStatusCode right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(EnhancedStatusCode left, EnhancedStatusCode right) => !left.Equals(right);

    /// <summary><c>class.subject.detail</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Class}.{Subject}.{Detail}");
}
