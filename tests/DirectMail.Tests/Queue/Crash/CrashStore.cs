using System;
using DirectMail.Queue;

namespace DirectMail.Tests.Queue.Crash;

/// <summary>
/// A store the worker crash tests run on: what the probe's <c>--store</c> argument names, and the same store opened in
/// the test process to enqueue and to read the outcome. The PostgreSQL store is one more subclass.
/// </summary>
internal abstract class CrashStore : IDisposable
{
    /// <summary>A short name for the test output.</summary>
    public abstract string Name { get; }

    /// <summary>The probe's <c>--store</c> value.</summary>
    public abstract string Argument { get; }

    /// <summary>Opens the store in the test process (disposed by the caller before and after the workers run).</summary>
    public abstract IMailQueueStore Open();

    public abstract void Dispose();
}
