using System;
using DirectMail.Delivery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Wraps the factory of the <see cref="DirectMailer"/> that <c>AddDirectMail</c> registered, so that what a later
/// <c>Add...</c> attaches to it (the queue's hand-off, TLS reporting) is attached as the mailer is made, before its first send.
/// </summary>
internal static class MailerDecoration
{
    /// <param name="services">The services.</param>
    /// <param name="caller">The method that asks ("AddQueue"), for its error messages.</param>
    /// <param name="attach">What to do with each mailer made.</param>
    public static void Decorate(IServiceCollection services, string caller, Action<IServiceProvider, DirectMailer> attach)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType != typeof(DirectMailer) || descriptor.IsKeyedService)
            {
                continue;
            }

            Func<IServiceProvider, object> make = descriptor.ImplementationFactory
                ?? (descriptor.ImplementationInstance is { } instance ? _ => instance : throw new InvalidOperationException($"{caller} expects the DirectMailer registered by AddDirectMail (by a factory or an instance)."));
            services[i] = ServiceDescriptor.Singleton(typeof(DirectMailer), sp =>
            {
                var mailer = (DirectMailer)make(sp);
                attach(sp, mailer);
                return mailer;
            });
            return;
        }

        throw new InvalidOperationException($"{caller} needs the mailer: call services.AddDirectMail(...).{caller}(...).");
    }
}
