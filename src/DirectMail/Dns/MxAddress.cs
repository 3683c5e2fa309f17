using System;
using System.Net;
using System.Net.Sockets;

namespace DirectMail.Dns;

/// <summary>An address of a mail server, with its <see cref="AddressScope"/>.</summary>
public sealed class MxAddress
{
    /// <summary>Wraps <paramref name="address"/> and classifies it.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="address"/> is null.</exception>
    public MxAddress(IPAddress address)
    {
        Address = address ?? throw new ArgumentNullException(nameof(address));
        Scope = AddressScopes.Classify(address);
    }

    /// <summary>The address to connect to, port 25.</summary>
    public IPAddress Address { get; }

    /// <summary>Where the address can be reached; only <see cref="AddressScope.Public"/> is on the Internet.</summary>
    public AddressScope Scope { get; }

    /// <summary>True when <see cref="Scope"/> is <see cref="AddressScope.Public"/>.</summary>
    public bool IsPublic => Scope == AddressScope.Public;

    /// <summary>True for an IPv6 address.</summary>
    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;

    /// <inheritdoc />
    public override string ToString() => Scope == AddressScope.Public ? Address.ToString() : $"{Address} ({Scope})";
}
