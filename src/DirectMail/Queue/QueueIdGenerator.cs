using System;
using System.Security.Cryptography;

namespace DirectMail.Queue;

/// <summary>
/// Queue ids in the ULID layout: 26 characters of Crockford base32 (digits and upper-case letters without I, L, O, U),
/// the first 10 the milliseconds since 1970, the last 16 random. They sort by time as text, need no quoting in a URL
/// or a shell, and ids made in the same millisecond by one generator still sort in order (the random part counts up).
/// </summary>
internal sealed class QueueIdGenerator
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    private readonly object _gate = new();
    private long _lastMilliseconds = -1;
    private UInt128 _lastRandom;

    public string Next(DateTimeOffset now)
    {
        var milliseconds = Math.Max(0, now.ToUnixTimeMilliseconds());
        UInt128 random;
        lock (_gate)
        {
            if (milliseconds <= _lastMilliseconds)
            {
                // Same millisecond (or a clock that stepped back): one more than the last id, so the order holds.
                milliseconds = _lastMilliseconds;
                random = (_lastRandom + 1) & ((UInt128.One << 80) - 1);
                if (random == 0)
                {
                    milliseconds++;
                }
            }
            else
            {
                Span<byte> bytes = stackalloc byte[16];
                RandomNumberGenerator.Fill(bytes);
                random = System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(bytes) & ((UInt128.One << 79) - 1); // room to count up
            }

            _lastMilliseconds = milliseconds;
            _lastRandom = random;
        }

        return string.Create(26, (milliseconds, random), static (chars, state) =>
        {
            var (ms, rnd) = state;
            for (var i = 9; i >= 0; i--)
            {
                chars[i] = Alphabet[(int)(ms & 31)];
                ms >>= 5;
            }

            for (var i = 25; i >= 10; i--)
            {
                chars[i] = Alphabet[(int)(rnd & 31)];
                rnd >>= 5;
            }
        });
    }
}
