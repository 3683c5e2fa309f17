using System.IO;

namespace DirectMail.Tests.Infrastructure.Postfix;

/// <summary>What a message must look like once stored: every line end (CRLF, bare CR, bare LF) is CRLF and the last line ends with one.</summary>
public static class WireForm
{
    public static byte[] NormalizeLineEnds(byte[] content)
    {
        var output = new MemoryStream(content.Length + 16);
        for (var i = 0; i < content.Length; i++)
        {
            var b = content[i];
            if (b == (byte)'\r')
            {
                if (i + 1 < content.Length && content[i + 1] == (byte)'\n')
                {
                    i++;
                }

                output.Write("\r\n"u8);
            }
            else if (b == (byte)'\n')
            {
                output.Write("\r\n"u8);
            }
            else
            {
                output.WriteByte(b);
            }
        }

        if (content.Length > 0 && content[^1] is not ((byte)'\r' or (byte)'\n'))
        {
            output.Write("\r\n"u8);
        }

        return output.ToArray();
    }
}
