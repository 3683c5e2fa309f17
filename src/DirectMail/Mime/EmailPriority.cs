namespace DirectMail.Mime;

/// <summary>How urgent a message is, written as <c>X-Priority</c> and <c>Importance</c>.</summary>
public enum EmailPriority
{
    /// <summary>Normal: no priority header is written.</summary>
    Normal = 0,

    /// <summary>High: <c>X-Priority: 1 (Highest)</c>, <c>Importance: high</c>.</summary>
    High = 1,

    /// <summary>Low: <c>X-Priority: 5 (Lowest)</c>, <c>Importance: low</c>.</summary>
    Low = 2,
}
