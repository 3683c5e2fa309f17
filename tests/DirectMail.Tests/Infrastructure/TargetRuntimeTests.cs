using System;
using System.Reflection;
using System.Runtime.Versioning;
using DirectMail.Delivery;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// `.ci/run` also runs the fast set built for net8.0 to test the libraries' net8.0 assets: a run that rolled forward to
/// the installed .NET 10 runtime, or loaded the net10.0 build of a library, would test nothing of net8.0.
/// </summary>
public sealed class TargetRuntimeTests
{
    [Fact]
    public void The_suite_runs_on_the_runtime_of_its_target_framework_with_the_libraries_built_for_it()
    {
        var suite = Framework(typeof(TargetRuntimeTests).Assembly);
        Assert.Equal(suite, Framework(typeof(DirectMailer).Assembly));
        Assert.Equal(suite, Framework(typeof(DirectMail.MimeKit.MimeMessageExtensions).Assembly));
        Assert.Equal(suite, Framework(typeof(DirectMail.Queue.Sqlite.SqliteMailQueueStore).Assembly));
        Assert.Equal(suite.Version.Major, Environment.Version.Major);
    }

    private static FrameworkName Framework(Assembly assembly)
        => new(assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName);
}
