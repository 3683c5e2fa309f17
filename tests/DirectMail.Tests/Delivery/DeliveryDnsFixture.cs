using System;
using System.Net;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// The delivery tests' own authoritative DNS server: NSD on 127.0.53.25 port 10053 serving the zones
/// <c>deliver.test</c> and <c>elsewhere.test</c> (<c>Delivery/zones</c>), whose MX hosts are addresses of 127.0.26.0/24.
/// One NSD serves the whole test run: every fixture instance takes a reference and the last one to be disposed stops
/// it, so collections that run one after the other (or side by side) share it and never fight over the port.
/// </summary>
public sealed class DeliveryDnsFixture : IDisposable
{
    public static readonly IPAddress Address = IPAddress.Parse("127.0.53.25");

    public const int Port = 10053;

    public static readonly IPEndPoint EndPoint = new(Address, Port);

    /// <summary>The value for <c>DirectMailOptions.NameServers</c>.</summary>
    public static readonly string NameServer = $"{Address}:{Port}";

    private static readonly object Gate = new();
    private static NsdServer? _shared;
    private static int _references;

    private bool _disposed;

    public DeliveryDnsFixture()
    {
        lock (Gate)
        {
            _shared ??= new NsdServer(EndPoint, [NsdZone.FromOutput("Delivery", "deliver.test"), NsdZone.FromOutput("Delivery", "elsewhere.test")]);
            _references++;
        }
    }

    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (--_references == 0)
            {
                _shared?.Dispose();
                _shared = null;
            }
        }
    }
}
