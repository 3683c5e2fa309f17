using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Infrastructure;

/// <summary>Hands one <see cref="ListLogger"/> to every category (each entry records its category), so a test reads all of a component's log lines in one place.</summary>
public sealed class ListLoggerProvider(ListLogger logger) : ILoggerProvider
{
    public ListLoggerProvider()
        : this(new ListLogger())
    {
    }

    public ListLogger Logger { get; } = logger;

    public ILogger CreateLogger(string categoryName) => Logger.ForCategory(categoryName);

    public void Dispose()
    {
    }
}
