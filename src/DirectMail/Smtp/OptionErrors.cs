using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.ExceptionServices;

namespace DirectMail.Smtp;

/// <summary>
/// What is wrong with a set of options. Every rule adds its failure here instead of throwing, so one check reports
/// every wrong option at once: as one <see cref="ArgumentException"/> (<see cref="ThrowIfAny"/>) or as the failures of
/// an options validator (<see cref="Messages"/>).
/// </summary>
internal sealed class OptionErrors
{
    private readonly string? _section;
    private List<string>? _messages;
    private ArgumentException? _first;

    /// <summary>Creates an empty list of failures.</summary>
    /// <param name="section">
    /// The configuration section the options are bound from (<c>DirectMail</c>): options are then named by their
    /// configuration key (<c>DirectMail:Timeouts:Connect</c>). Null to name them by property (<c>Timeouts.Connect</c>).
    /// </param>
    public OptionErrors(string? section = null) => _section = section;

    /// <summary>Whether any rule failed.</summary>
    public bool HasErrors => _messages is not null;

    /// <summary>One message per failure, in the order the rules ran.</summary>
    public IReadOnlyList<string> Messages => _messages ?? (IReadOnlyList<string>)Array.Empty<string>();

    /// <summary>How messages name the option at <paramref name="path"/> (<c>Timeouts.Connect</c>).</summary>
    public string Name(string path) => _section is null ? path : _section + ":" + path.Replace('.', ':');

    /// <summary>Adds a failure of the option at <paramref name="path"/>, with a message that names it (<see cref="Name"/>).</summary>
    public void Add(string path, string message)
    {
        _first ??= new ArgumentException(message, path);
        (_messages ??= new List<string>()).Add(message);
    }

    /// <summary>Adds the failure of options checked by their own rules, which throw (a DKIM key: its file is read).</summary>
    public void Add(ArgumentException failure)
    {
        _first ??= failure;
        (_messages ??= new List<string>()).Add(failure.Message);
    }

    /// <summary>
    /// Throws when a rule failed: the failure itself when it is the only one (its parameter is the option), otherwise one
    /// exception listing them all.
    /// </summary>
    public void ThrowIfAny()
    {
        if (_messages is null)
        {
            return;
        }

        if (_messages.Count == 1)
        {
            ExceptionDispatchInfo.Throw(_first!);
        }

        var text = string.Create(CultureInfo.InvariantCulture, $"{_messages.Count} options are invalid: {string.Join(" ", _messages)}");
        throw new ArgumentException(text, _first);
    }
}
