using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using DirectMail.Tests.Cli;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Dkim;
using DirectMail.Tests.Dns;
using DirectMail.Tests.Doctor;
using DirectMail.Tests.Infrastructure.Postfix;
using DirectMail.Tests.Smtp;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// The fast set (<c>--filter "Category!=Integration"</c>) must run with only the .NET SDK: a test class that gets a
/// server fixture (Postfix, NSD, aiosmtpd, smtp-sink, the CLI's servers) through its collection or as a class fixture
/// must carry <c>[Trait("Category", "Integration")]</c>, or a contributor without the Debian packages sees it fail.
/// A class that starts a server or process itself, not through a fixture, is not seen here: it is marked by hand.
/// </summary>
public sealed class IntegrationTraitTests
{
    private static readonly HashSet<Type> ServerFixtures =
    [
        typeof(PostfixFixture), typeof(DnsServerFixture), typeof(DeliveryDnsFixture), typeof(DoctorDnsFixture),
        typeof(DkimDnsFixture), typeof(CliServers), typeof(CliDkimKey), typeof(SharedContentTests.Servers),
        typeof(DirectMail.Tests.Security.Dane.DaneDnsFixture),
    ];

    [Fact]
    public void Every_test_class_with_a_server_fixture_is_marked_Integration()
    {
        var assembly = typeof(IntegrationTraitTests).Assembly;
        var collections = assembly.GetTypes()
            .Select(t => (Type: t, Name: FirstArgument<CollectionDefinitionAttribute>(t)))
            .Where(c => c.Name is not null)
            .ToDictionary(c => c.Name!, c => c.Type);

        var unmarked = new List<string>();
        foreach (var type in assembly.GetTypes().Where(IsTestClass))
        {
            var fixtures = Fixtures(type).ToList();
            if (FirstArgument<CollectionAttribute>(type) is { } collection && collections.TryGetValue(collection, out var definition))
            {
                fixtures.AddRange(Fixtures(definition));
            }

            if (fixtures.Any(ServerFixtures.Contains) && !IsIntegration(type))
            {
                unmarked.Add(type.FullName!);
            }
        }

        Assert.Empty(unmarked);
    }

    [Fact]
    public void A_pure_unit_test_class_is_not_marked_Integration()
    {
        Assert.False(IsIntegration(typeof(IntegrationTraitTests)));
        Assert.True(IsIntegration(typeof(PostfixDeliveryTests)));
    }

    private static bool IsTestClass(Type type) =>
        type.GetMethods().Any(m => m.GetCustomAttributes<FactAttribute>().Any());

    private static IEnumerable<Type> Fixtures(Type type) => type.GetInterfaces()
        .Where(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IClassFixture<>) || i.GetGenericTypeDefinition() == typeof(ICollectionFixture<>)))
        .Select(i => i.GetGenericArguments()[0]);

    // The name a [Collection] or [CollectionDefinition] gives (xunit keeps it in the constructor argument only).
    private static string? FirstArgument<TAttribute>(Type type) => type.GetCustomAttributesData()
        .FirstOrDefault(a => a.AttributeType == typeof(TAttribute) && a.ConstructorArguments.Count > 0)?.ConstructorArguments[0].Value as string;

    private static bool IsIntegration(Type type) => type.GetCustomAttributesData()
        .Any(a => a.AttributeType == typeof(TraitAttribute) && a.ConstructorArguments is [{ Value: "Category" }, { Value: "Integration" }]);
}
