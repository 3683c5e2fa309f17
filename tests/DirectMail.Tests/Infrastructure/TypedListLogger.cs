using System;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Infrastructure;

/// <summary>A <see cref="ListLogger"/> seen as the <see cref="ILogger{TCategoryName}"/> a constructor asks for (scopes and category recorded).</summary>
public sealed class TypedListLogger<T>(ListLogger inner) : ILogger<T>
{
    private readonly ILogger _logger = inner.ForCategory(typeof(T).FullName ?? typeof(T).Name);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _logger.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => _logger.Log(logLevel, eventId, state, exception, formatter);
}
