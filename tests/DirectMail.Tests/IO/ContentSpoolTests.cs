using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;

namespace DirectMail.Tests.IO;

/// <summary>The spool the mailer and DKIM keep messages in: every octet back, from memory or the file, by many readers at once.</summary>
public sealed class ContentSpoolTests
{
    [Theory]
    [InlineData(100, 1)]          // memory only
    [InlineData(70_000, 7_000)]   // crosses the 64 KiB limit in the middle of a write
    [InlineData(300_000, 65_536)]
    [InlineData(300_000, 1)]      // spills on a one-octet write
    public async Task Every_octet_written_is_read_back_by_concurrent_readers(int length, int piece)
    {
        // Stops: octets lost or repeated where the spool moves from memory to its file.
        var data = new byte[length];
        new Random(length + piece).NextBytes(data);
        await using var spool = new ContentSpool(64 * 1024);
        for (var offset = 0; offset < length; offset += piece)
        {
            var part = data.AsMemory(offset, Math.Min(piece, length - offset));
            if ((offset / piece) % 2 == 0)
            {
                await spool.WriteAsync(part, CancellationToken.None);
            }
            else
            {
                spool.Write(part.Span);
            }
        }

        await spool.CompleteAsync(CancellationToken.None);
        Assert.Equal(length, spool.Length);
        Assert.Equal(length > 64 * 1024, spool.IsFile);

        var copies = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            await Task.Yield();
            using var output = new MemoryStream();
            if (i % 2 == 0)
            {
                await spool.CopyToAsync(output, CancellationToken.None);
            }
            else
            {
                await using var reader = spool.OpenRead();
                await reader.CopyToAsync(output, 1000);
            }

            return output.ToArray();
        }));
        foreach (var copy in copies)
        {
            Assert.Equal(data, copy);
        }
    }
}
