using System;
using DirectMail.Delivery;
using DirectMail.Dkim;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds DKIM keys to the DirectMail registration, in code (configuration binds <c>DirectMail:Dkim</c> by itself).</summary>
public static class DkimDirectMailBuilderExtensions
{
    /// <summary>Adds a DKIM key: messages from its domain are signed with it (<see cref="DirectMailOptions.Dkim"/>).</summary>
    /// <param name="builder">The builder returned by <c>AddDirectMail</c>.</param>
    /// <param name="configure">Sets the domain, selector, key and settings.</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddDkimKey(this IDirectMailBuilder builder, Action<DkimSignerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure<DirectMailOptions>(options =>
        {
            var key = new DkimSignerOptions();
            configure(key);
            options.Dkim.Add(key);
        });
        return builder;
    }

    /// <summary>Adds a DKIM key from a PEM file, with the default settings.</summary>
    /// <param name="builder">The builder returned by <c>AddDirectMail</c>.</param>
    /// <param name="domain">The signing domain (<c>d=</c>).</param>
    /// <param name="selector">The selector (<c>s=</c>).</param>
    /// <param name="privateKeyFile">The private key's PEM file.</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddDkimKey(this IDirectMailBuilder builder, string domain, string selector, string privateKeyFile)
        => builder.AddDkimKey(o =>
        {
            o.Domain = domain;
            o.Selector = selector;
            o.PrivateKeyFile = privateKeyFile;
        });
}
