using System;
using System.Threading.Tasks;
using DirectMail.Smtp;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// The one place for the suite's timing: short SMTP timeouts for tests against local servers (which answer at once or
/// never), the bound on every await on a server or task (a regression fails the test instead of hanging the run), and
/// the one polling helper. Tests assert counts and typed outcomes, never elapsed time.
/// </summary>
internal static class TestTimeouts
{
    /// <summary>
    /// The most a test waits for a server, a process or a task that should end: long enough for a loaded 2-core machine,
    /// short enough that a hang fails within the run.
    /// </summary>
    public static readonly TimeSpan Await = TimeSpan.FromSeconds(60);

    /// <summary>How often <see cref="EventuallyAsync(Func{bool}, string)"/> looks again.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Sets every phase's timeout to <paramref name="value"/>.</summary>
    public static void SetAll(SmtpTimeouts timeouts, TimeSpan value)
    {
        timeouts.Connect = value;
        timeouts.Greeting = value;
        timeouts.Command = value;
        timeouts.MailFrom = value;
        timeouts.RcptTo = value;
        timeouts.DataInitiation = value;
        timeouts.DataBlock = value;
        timeouts.DataTermination = value;
    }

    /// <summary>Awaits <paramref name="task"/> for at most <see cref="Await"/>; a <see cref="TimeoutException"/> fails the test.</summary>
    public static Task Bounded(this Task task) => task.WaitAsync(Await);

    /// <summary>Awaits <paramref name="task"/> for at most <see cref="Await"/>; a <see cref="TimeoutException"/> fails the test.</summary>
    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(Await);

    /// <summary>Awaits <paramref name="task"/> for at most <see cref="Await"/>; a <see cref="TimeoutException"/> fails the test.</summary>
    public static Task<T> Bounded<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Await);

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds, without blocking a thread-pool thread; fails the test naming
    /// <paramref name="what"/> when it still does not hold after <see cref="Await"/>.
    /// </summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what) => await FindEventuallyAsync(() => condition() ? Found : null, what);

    /// <summary>
    /// Polls <paramref name="condition"/> as <see cref="EventuallyAsync(Func{bool}, string)"/> does; the failure message
    /// ends with what <paramref name="diagnostics"/> says then (a server's log, what it stored).
    /// </summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, Func<string> diagnostics) => await FindEventuallyAsync(() => condition() ? Found : null, what, diagnostics);

    /// <summary>
    /// Polls <paramref name="find"/> until it finds something (not null), which it returns; fails the test naming
    /// <paramref name="what"/>, with <paramref name="diagnostics"/> when given, after <see cref="Await"/>.
    /// </summary>
    public static async Task<T> FindEventuallyAsync<T>(Func<T?> find, string what, Func<string>? diagnostics = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + Await;
        while (true)
        {
            if (find() is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"still not {what} after {Await.TotalSeconds:F0} s" + (diagnostics is null ? string.Empty : "\n" + diagnostics()));
            }

            await Task.Delay(PollInterval);
        }
    }

    private static readonly object Found = new();

    /// <summary>Polls <paramref name="read"/> until it gives a non-empty list, which it returns (see <see cref="EventuallyAsync(Func{bool}, string)"/>).</summary>
    public static async Task<System.Collections.Generic.IReadOnlyList<T>> EventuallyAsync<T>(Func<System.Collections.Generic.IReadOnlyList<T>> read, string what)
    {
        System.Collections.Generic.IReadOnlyList<T> value = read();
        await EventuallyAsync(() => (value = read()).Count > 0, what);
        return value;
    }
}
