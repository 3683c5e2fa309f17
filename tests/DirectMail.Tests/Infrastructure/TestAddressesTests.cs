using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Reflection;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// The address registry (<see cref="TestAddresses"/>) read by reflection, no servers: no two entries claim one address
/// and port, so two fixtures cannot silently fight over one listener; and every entry is a loopback address.
/// </summary>
public sealed class TestAddressesTests
{
    /// <summary>Every entry: its class and field, and the address and port it claims.</summary>
    private static List<(string Name, IPEndPoint EndPoint)> Entries()
    {
        var entries = new List<(string, IPEndPoint)>();
        foreach (var group in typeof(TestAddresses).GetNestedTypes(BindingFlags.Public))
        {
            var port = group.GetField("Port", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } p ? (int?)p.GetRawConstantValue() : null;
            foreach (var field in group.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var name = group.Name + "." + field.Name;
                switch (field.GetValue(null))
                {
                    case IPEndPoint endPoint:
                        entries.Add((name, endPoint));
                        break;
                    case IPAddress address:
                        entries.Add((name, new IPEndPoint(address, port ?? throw new InvalidOperationException($"{name} is an address, but {group.Name} has no Port constant."))));
                        break;
                    case IPAddress[] addresses:
                        entries.AddRange(addresses.Select((a, i) => ($"{name}[{i}]", new IPEndPoint(a, port ?? throw new InvalidOperationException($"{name} are addresses, but {group.Name} has no Port constant.")))));
                        break;
                }
            }
        }

        return entries;
    }

    [Fact]
    public void No_two_entries_claim_the_same_address_and_port()
    {
        var entries = Entries();
        Assert.True(entries.Count > 50, $"Only {entries.Count} entries found: the reflection misses the registry's fields.");

        var clashes = entries.GroupBy(e => e.EndPoint).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Name))}").ToList();

        Assert.True(clashes.Count == 0, "Entries claiming one listener:\n" + string.Join('\n', clashes));
    }

    [Fact]
    public void Every_entry_is_a_loopback_address()
    {
        var outside = Entries().Where(e => !IPAddress.IsLoopback(e.EndPoint.Address)).Select(e => $"{e.Name} = {e.EndPoint}").ToList();

        Assert.True(outside.Count == 0, "Not loopback:\n" + string.Join('\n', outside));
    }

    [Fact]
    public void Entries_are_read_with_their_class_s_port_and_arrays_address_by_address()
    {
        // What the uniqueness check compares: an address takes its class's Port, an array gives one entry per address,
        // and a listener two MX hosts share by design (the backup of rcpt4xx and ehlo4xx) is one entry.
        var entries = Entries();
        Assert.Single(entries, e => e.Name == "Delivery.FourXxBackup");
        Assert.Contains(entries, e => e.Name == "Postfix.Address" && e.EndPoint.Equals(new IPEndPoint(TestAddresses.Postfix.Address, TestAddresses.Postfix.Port)));
        Assert.Contains(entries, e => e.Name == "Delivery.Concurrency[3]");
    }
}
