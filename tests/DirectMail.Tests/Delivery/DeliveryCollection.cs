namespace DirectMail.Tests.Delivery;

/// <summary>
/// The delivery end-to-end tests: one NSD (<see cref="DeliveryDnsFixture"/>) and SMTP servers on fixed addresses of
/// 127.0.26.0/24, so the tests of this collection run one at a time (xunit runs a collection's tests sequentially).
/// </summary>
[CollectionDefinition(Name)]
public sealed class DeliveryCollection : ICollectionFixture<DeliveryDnsFixture>
{
    public const string Name = "Delivery (NSD on 127.0.53.25:10053, SMTP on 127.0.26.x:10025)";
}
