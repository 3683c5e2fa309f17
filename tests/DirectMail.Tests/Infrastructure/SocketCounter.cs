using System;
using System.IO;

namespace DirectMail.Tests.Infrastructure;

/// <summary>Counts this process's open sockets, as the kernel sees them (Linux /proc).</summary>
public static class SocketCounter
{
    public static int Count()
    {
        var count = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:", StringComparison.Ordinal))
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we looked.
            }
        }

        return count;
    }
}
