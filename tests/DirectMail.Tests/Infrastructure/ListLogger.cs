using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Infrastructure;

/// <summary>One log line as a user's logging provider receives it: category, level, event id, message, the scopes open around it (outermost first) and the exception.</summary>
public sealed record LogEntry(string Category, LogLevel Level, EventId Id, string Message, IReadOnlyList<object> Scopes, Exception? Exception)
{
    public override string ToString() => $"{Level} {Id.Id} [{string.Join(" => ", Scopes)}] {Message}";
}

/// <summary>
/// The suite's capturing logger: keeps every log line (all levels) with its category, event id and the scopes open
/// around it, so tests read what a user would see in their logs. One instance serves every category
/// (<see cref="ListLoggerProvider"/>, <see cref="TypedListLogger{T}"/>, <see cref="ForCategory"/>).
/// </summary>
public sealed class ListLogger : ILogger
{
    private readonly LoggerExternalScopeProvider _scopes = new();

    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public List<string> Messages
    {
        get
        {
            var list = new List<string>();
            foreach (var e in Entries)
            {
                list.Add(e.Message);
            }

            return list;
        }
    }

    /// <summary>The entries so far, in order.</summary>
    public List<LogEntry> Snapshot() => [.. Entries];

    /// <summary>This logger seen as the logger of <paramref name="category"/>: entries record that category.</summary>
    public ILogger ForCategory(string category) => new CategoryLogger(this, category);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => Push(state);

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Record(string.Empty, logLevel, eventId, formatter(state, exception), exception);

    private IDisposable Push(object state) => _scopes.Push(state);

    private void Record(string category, LogLevel level, EventId id, string message, Exception? exception)
    {
        var scopes = new List<object>();
        _scopes.ForEachScope(static (scope, list) => list.Add(scope!), scopes);
        Entries.Enqueue(new LogEntry(category, level, id, message, scopes, exception));
    }

    private sealed class CategoryLogger(ListLogger owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Record(category, logLevel, eventId, formatter(state, exception), exception);
    }
}
