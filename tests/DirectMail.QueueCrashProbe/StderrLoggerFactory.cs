using System;
using Microsoft.Extensions.Logging;

namespace DirectMail.QueueCrashProbe;

/// <summary>
/// Warnings and errors of the worker, the store and the mailer on standard error, one line each (the tests show them
/// when a round fails). The probe has no logging package: this is all it needs.
/// </summary>
internal sealed class StderrLoggerFactory : ILoggerFactory
{
    private static readonly object Gate = new();

    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The probe logs to standard error only.");

    public void Dispose()
    {
    }

    private sealed class StderrLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception.GetType().Name + ": " + exception.Message)}";
            lock (Gate)
            {
                Console.Error.WriteLine(line.Replace('\n', ' '));
            }
        }
    }
}
