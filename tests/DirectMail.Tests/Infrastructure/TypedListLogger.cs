using System;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Infrastructure;

/// <summary>A <see cref="ListLogger"/> seen as the <see cref="ILogger{TCategoryName}"/> a constructor asks for.</summary>
public sealed class TypedListLogger<T>(ListLogger inner) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => inner.Log(logLevel, eventId, state, exception, formatter);
}
