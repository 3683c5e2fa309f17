using System;
using DirectMail.Delivery;
using DirectMail.Dkim;
using DirectMail.Dkim.Ed25519;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds <c>ed25519-sha256</c> DKIM keys (RFC 8463) to the DirectMail registration. Every call also lets the keys of
/// <c>DirectMail:Dkim</c> that say <c>"Algorithm": "ed25519-sha256"</c> (bound from configuration) be read. Give each
/// domain its RSA key too (<c>AddDkimKey</c>): both sign in one pass, and the large mailbox providers verify only RSA.
/// </summary>
public static class DkimEd25519DirectMailBuilderExtensions
{
    /// <summary>Lets the <c>DirectMail:Dkim</c> entries whose Algorithm is <c>ed25519-sha256</c> sign (configuration binding).</summary>
    /// <param name="builder">The builder returned by <c>AddDirectMail</c>.</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddDkimEd25519(this IDirectMailBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<DirectMailOptions>, Ed25519Keys>());
        return builder;
    }

    /// <summary>Adds an Ed25519 DKIM key: messages from its domain are signed with it, besides the domain's other keys.</summary>
    /// <param name="builder">The builder returned by <c>AddDirectMail</c>.</param>
    /// <param name="configure">Sets the domain, selector, key (PKCS#8 PEM) and settings.</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddDkimEd25519(this IDirectMailBuilder builder, Action<DkimSignerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddDkimEd25519().AddDkimKey(o =>
        {
            configure(o);
            o.UseAlgorithm(DkimEd25519.Algorithm);
        });
    }

    /// <summary>Adds an Ed25519 DKIM key from a PEM file (PKCS#8, as <c>openssl genpkey -algorithm ed25519</c> or <c>directmail dkim keygen --algorithm ed25519</c> writes), with the default settings.</summary>
    /// <param name="builder">The builder returned by <c>AddDirectMail</c>.</param>
    /// <param name="domain">The signing domain (<c>d=</c>).</param>
    /// <param name="selector">The selector (<c>s=</c>).</param>
    /// <param name="privateKeyFile">The private key's PEM file.</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddDkimEd25519(this IDirectMailBuilder builder, string domain, string selector, string privateKeyFile)
        => builder.AddDkimEd25519(o =>
        {
            o.Domain = domain;
            o.Selector = selector;
            o.PrivateKeyFile = privateKeyFile;
        });

    /// <summary>Gives the entries that name <c>ed25519-sha256</c> the implementation.</summary>
    private sealed class Ed25519Keys : IPostConfigureOptions<DirectMailOptions>
    {
        public void PostConfigure(string? name, DirectMailOptions options)
        {
            foreach (var key in options.Dkim)
            {
                if (key is not null && string.Equals(key.Algorithm?.Trim(), DkimEd25519.AlgorithmName, StringComparison.OrdinalIgnoreCase))
                {
                    key.UseAlgorithm(DkimEd25519.Algorithm);
                }
            }
        }
    }
}
