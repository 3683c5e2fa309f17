using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DirectMail.Cli;

/// <summary>
/// What directmail prints of the library's logs: the SMTP transcript (<c>--trace</c>: the session's Trace events
/// 2001-2003, "C: ..." and "S: ..." lines, under a line naming the host and address each conversation is with), every
/// other event at Debug and above (<c>--verbose</c>), and the progress of a send (events 4000/4001).
/// </summary>
internal sealed class ConsoleLog : ILoggerProvider
{
    private const int ClientLine = DirectMailLogEvents.SmtpClientLine;
    private const int ServerLine = DirectMailLogEvents.SmtpServerLine;
    private const int ClientContent = DirectMailLogEvents.SmtpClientContent;

    private readonly object _gate = new();
    private readonly AsyncLocal<ScopeNode?> _scope = new();
    private readonly TextWriter? _transcript;
    private readonly TextWriter? _verbose;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, string> _labels = new();
    private readonly Dictionary<string, int> _connectionsTo = new(StringComparer.Ordinal);
    private object? _lastConversation;

    /// <param name="transcript">Where the transcript goes; null for none.</param>
    /// <param name="verbose">Where the other events go; null for none.</param>
    public ConsoleLog(TextWriter? transcript, TextWriter? verbose)
    {
        _transcript = transcript;
        _verbose = verbose;
    }

    /// <summary>Called before a transcript line is written, with the writer (progress clears its line).</summary>
    public Action? BeforeWrite { get; set; }

    /// <summary>A logger factory with this provider only, passing everything from Trace up.</summary>
    public ILoggerFactory CreateFactory() => LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(LogLevel level, EventId eventId, string category, string message, Exception? exception)
    {
        if (eventId.Id is ClientLine or ServerLine or ClientContent)
        {
            if (_transcript is null)
            {
                return;
            }

            lock (_gate)
            {
                BeforeWrite?.Invoke();
                // A header names the conversation whenever the lines switch to another one (several domains are
                // delivered at once). Each session has its own scope object: a second connection to the same address
                // is numbered.
                if (_scope.Value is { Conversation: { } conversation, Text: { } text } && !ReferenceEquals(conversation, _lastConversation))
                {
                    if (!_labels.TryGetValue(conversation, out var label))
                    {
                        var n = _connectionsTo[text] = _connectionsTo.GetValueOrDefault(text) + 1;
                        label = n == 1 ? text : $"{text} (connection {n})";
                        _labels.Add(conversation, label);
                    }

                    _transcript.WriteLine(Display.Line($"--- {label}"));
                    _lastConversation = conversation;
                }

                // Server lines come escaped from the library already; escaping again changes nothing and covers the rest.
                _transcript.WriteLine(Display.Line(message));
                _transcript.Flush();
            }

            return;
        }

        if (_verbose is null || level < LogLevel.Debug)
        {
            return;
        }

        lock (_gate)
        {
            BeforeWrite?.Invoke();
            var name = level switch
            {
                LogLevel.Debug => "debug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warning",
                LogLevel.Error => "error",
                _ => "critical",
            };
            _verbose.WriteLine($"{name}: {category}: {Display.Line(message)}");
            if (exception is not null)
            {
                _verbose.WriteLine(Display.Lines(exception.ToString()));
            }

            _verbose.Flush();
        }
    }

    private bool IsEnabled(LogLevel level) =>
        (level == LogLevel.Trace && _transcript is not null)
        || (level >= LogLevel.Debug && _verbose is not null);

    /// <summary>One scope of the current async flow; the innermost session scope names the conversation.</summary>
    private sealed class ScopeNode(ConsoleLog owner, ScopeNode? parent, object? conversation) : IDisposable
    {
        /// <summary>The session's scope object: one per SMTP session (connection).</summary>
        public object? Conversation { get; } = conversation ?? parent?.Conversation;

        /// <summary>"host [ip:port]".</summary>
        public string? Text { get; } = conversation?.ToString() ?? parent?.Text;

        public void Dispose() => owner._scope.Value = parent;
    }

    private sealed class Logger(ConsoleLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            // The session's scope is a list of ServerName/EndPoint whose text is "host [ip:port]"; other scopes
            // (Polly's, for example) keep the conversation of the scope around them.
            object? conversation = state is IReadOnlyList<KeyValuePair<string, object?>> values && HasKey(values, "ServerName") ? state : null;
            var node = new ScopeNode(owner, owner._scope.Value, conversation);
            owner._scope.Value = node;
            return node;
        }

        public bool IsEnabled(LogLevel logLevel) => owner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Write(logLevel, eventId, category, formatter(state, exception), exception);
            }
        }

        private static bool HasKey(IReadOnlyList<KeyValuePair<string, object?>> values, string key)
        {
            for (var i = 0; i < values.Count; i++)
            {
                if (values[i].Key == key)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
