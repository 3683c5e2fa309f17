using System.Collections;
using System.Collections.Generic;
using System.Net;

namespace DirectMail.Diagnostics;

/// <summary>The logging scope of a session: which server and address the transcript lines belong to.</summary>
internal sealed class SmtpSessionScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly string _text;
    private readonly KeyValuePair<string, object?>[] _values;

    public SmtpSessionScope(string serverName, IPEndPoint endPoint)
    {
        _text = $"{serverName} [{endPoint}]";
        _values = [new("ServerName", serverName), new("EndPoint", endPoint.ToString())];
    }

    public int Count => _values.Length;

    public KeyValuePair<string, object?> this[int index] => _values[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => _text;
}
