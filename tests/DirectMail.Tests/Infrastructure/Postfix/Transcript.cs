using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Infrastructure.Postfix;

/// <summary>
/// A logger that keeps the session's Trace transcript (<c>C:</c>/<c>S:</c> lines), so tests can check what was said
/// on the wire the way a user reading the log would.
/// </summary>
public sealed class Transcript : ILogger
{
    private readonly List<string> _lines = [];

    /// <summary>Every logged message, in order.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return _lines.ToArray();
            }
        }
    }

    /// <summary>The commands the client sent, without the <c>C: </c> prefix.</summary>
    public IReadOnlyList<string> ClientLines => Lines.Where(l => l.StartsWith("C: ", StringComparison.Ordinal)).Select(l => l[3..]).ToArray();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = formatter(state, exception);
        lock (_lines)
        {
            _lines.Add(line);
        }
    }

    public void Clear()
    {
        lock (_lines)
        {
            _lines.Clear();
        }
    }

    public override string ToString() => string.Join('\n', Lines);
}
