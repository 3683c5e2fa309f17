using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// Writes the text of one zone file for <see cref="NsdServer"/> (or for <see cref="DnssecZoneSigner"/> to sign):
/// <c>$ORIGIN</c> and <c>$TTL</c>, an SOA and an NS record at the apex (by default <c>ns.ORIGIN.</c>, with its address
/// when one is given), then the records added, in order. Names are written as in a zone file: relative to the origin
/// unless they end in a dot, <c>@</c> for the apex; the same holds for the host names records point to (MX, CNAME, NS,
/// PTR). Addresses are <see cref="IPAddress"/> values (in the tests, the servers' ones from <c>TestAddresses</c>), so a zone
/// cannot name an address its server does not listen on. <see cref="Raw"/> writes a line as given: for records made
/// elsewhere (a DS record, a line printed by a tool) and for deliberately broken ones. Holds no test-framework types:
/// linked into the benchmarks with <see cref="NsdServer"/>.
/// </summary>
public sealed class ZoneBuilder
{
    /// <summary>The most octets one character-string of a TXT record holds (RFC 1035 section 3.3).</summary>
    public const int MaxCharacterString = 255;

    private readonly List<string> _records = new();
    private string _soa;
    private string? _nameServer;
    private IPAddress? _nameServerAddress;

    /// <param name="origin">The zone's name, without the trailing dot.</param>
    /// <param name="ttl">The zone's default TTL (<c>$TTL</c>), in seconds.</param>
    public ZoneBuilder(string origin, int ttl = 300)
    {
        Origin = origin.TrimEnd('.');
        Ttl = ttl;
        _soa = Soa($"ns.{Origin}.", $"hostmaster.{Origin}.");
        _nameServer = $"ns.{Origin}.";
    }

    /// <summary>The zone's name, without the trailing dot.</summary>
    public string Origin { get; }

    /// <summary>The zone's default TTL, in seconds.</summary>
    public int Ttl { get; }

    /// <summary>The zone file's text.</summary>
    public string Text
    {
        get
        {
            var text = new StringBuilder();
            text.Append("$ORIGIN ").Append(Origin).Append(".\n");
            text.Append("$TTL ").Append(Ttl.ToString(CultureInfo.InvariantCulture)).Append('\n');
            if (_soa.Length > 0)
            {
                text.Append("@ SOA ").Append(_soa).Append('\n');
            }

            if (_nameServer is not null)
            {
                text.Append("@ NS ").Append(_nameServer).Append('\n');
                if (_nameServerAddress is not null)
                {
                    text.Append(_nameServer).Append(' ').Append(Type(_nameServerAddress)).Append(' ').Append(_nameServerAddress).Append('\n');
                }
            }

            foreach (var record in _records)
            {
                text.Append(record).Append('\n');
            }

            return text.ToString();
        }
    }

    /// <summary>The zone for <see cref="NsdServer"/>.</summary>
    public NsdZone Build() => new(Origin, Text);

    public override string ToString() => Text;

    /// <summary>
    /// The apex's SOA record, instead of <c>ns.ORIGIN. hostmaster.ORIGIN. 1 3600 600 86400 60</c>. The last number (the
    /// minimum) is how long resolvers keep a negative answer (RFC 2308).
    /// </summary>
    public ZoneBuilder WithSoa(string primary, string mailbox, int serial = 1, int refresh = 3600, int retry = 600, int expire = 86400, int minimum = 60)
    {
        _soa = Soa(primary, mailbox, serial, refresh, retry, expire, minimum);
        return this;
    }

    /// <summary>The apex's name server, instead of <c>ns.ORIGIN.</c>; with an address, its A (or AAAA) record too.</summary>
    public ZoneBuilder WithNameServer(string host, IPAddress? address = null)
    {
        _nameServer = host;
        _nameServerAddress = address;
        return this;
    }

    /// <summary>The address of the default name server <c>ns.ORIGIN.</c>: its A (or AAAA) record.</summary>
    public ZoneBuilder WithNameServer(IPAddress address) => WithNameServer($"ns.{Origin}.", address);

    /// <summary>No SOA and no NS at the apex: a zone NSD refuses to load (it then answers SERVFAIL for its names).</summary>
    public ZoneBuilder WithoutApexRecords()
    {
        _soa = string.Empty;
        _nameServer = null;
        _nameServerAddress = null;
        return this;
    }

    public ZoneBuilder A(string name, IPAddress address, int? ttl = null) =>
        Add(name, ttl, "A", Family(address, AddressFamily.InterNetwork, "A").ToString());

    /// <summary>An A record for an address that is data only (a documentation range, say): nothing connects to it.</summary>
    public ZoneBuilder A(string name, string address, int? ttl = null) => A(name, IPAddress.Parse(address), ttl);

    public ZoneBuilder Aaaa(string name, IPAddress address, int? ttl = null) =>
        Add(name, ttl, "AAAA", Family(address, AddressFamily.InterNetworkV6, "AAAA").ToString());

    /// <summary>An AAAA record for an address that is data only.</summary>
    public ZoneBuilder Aaaa(string name, string address, int? ttl = null) => Aaaa(name, IPAddress.Parse(address), ttl);

    /// <summary>An A or AAAA record for each address, by its family.</summary>
    public ZoneBuilder Address(string name, params IPAddress[] addresses)
    {
        foreach (var address in addresses)
        {
            Add(name, null, Type(address), address.ToString());
        }

        return this;
    }

    public ZoneBuilder Mx(string name, int preference, string host, int? ttl = null) =>
        Add(name, ttl, "MX", preference.ToString(CultureInfo.InvariantCulture) + " " + host);

    /// <summary>An MX record and the host's addresses (A or AAAA by family).</summary>
    public ZoneBuilder Mx(string name, int preference, string host, params IPAddress[] addresses) =>
        Mx(name, preference, host).Address(host, addresses);

    /// <summary>A null MX (RFC 7505): <c>MX 0 .</c>, the domain accepts no mail.</summary>
    public ZoneBuilder NullMx(string name) => Mx(name, 0, ".");

    public ZoneBuilder Cname(string name, string target) => Add(name, null, "CNAME", target);

    /// <summary>An NS record below the apex: a delegation (the child's name server, and its address if it is in this zone, are up to the caller).</summary>
    public ZoneBuilder Ns(string name, string host) => Add(name, null, "NS", host);

    public ZoneBuilder Ptr(string name, string target) => Add(name, null, "PTR", target);

    /// <summary>
    /// A TXT record holding <paramref name="value"/>: cut into character-strings of at most 255 octets (UTF-8), each
    /// quoted, with <c>"</c> and <c>\</c> escaped and octets outside printable ASCII written as <c>\DDD</c>.
    /// </summary>
    public ZoneBuilder Txt(string name, string value, int? ttl = null)
    {
        var octets = Encoding.UTF8.GetBytes(value);
        var strings = new List<byte[]>();
        for (var i = 0; i < octets.Length; i += MaxCharacterString)
        {
            strings.Add(octets.AsSpan(i, Math.Min(MaxCharacterString, octets.Length - i)).ToArray());
        }

        return Add(name, ttl, "TXT", CharacterStrings(strings.Count == 0 ? [[]] : strings));
    }

    /// <summary>A TXT record of exactly these character-strings (each at most 255 octets): where the test is about the split.</summary>
    public ZoneBuilder TxtStrings(string name, params string[] characterStrings)
    {
        var strings = new List<byte[]>();
        foreach (var s in characterStrings)
        {
            var octets = Encoding.UTF8.GetBytes(s);
            if (octets.Length > MaxCharacterString)
            {
                throw new ArgumentException($"A character-string holds at most {MaxCharacterString} octets, not {octets.Length}.", nameof(characterStrings));
            }

            strings.Add(octets);
        }

        return Add(name, null, "TXT", CharacterStrings(strings));
    }

    /// <summary>A TLSA record (RFC 6698): certificate usage, selector, matching type, and the association data.</summary>
    public ZoneBuilder Tlsa(string name, byte usage, byte selector, byte matchingType, ReadOnlySpan<byte> data) =>
        Add(name, null, "TLSA", string.Create(CultureInfo.InvariantCulture, $"{usage} {selector} {matchingType} {Convert.ToHexString(data)}"));

    /// <summary>A line written as given: a record made elsewhere, a comment, or something deliberately not a record.</summary>
    public ZoneBuilder Raw(string line)
    {
        _records.Add(line);
        return this;
    }

    private ZoneBuilder Add(string name, int? ttl, string type, string data)
    {
        if (name.Length == 0 || name.AsSpan().IndexOfAny(" \t\n;\"") >= 0)
        {
            throw new ArgumentException($"Not an owner name for a zone file: '{name}'.", nameof(name));
        }

        _records.Add(ttl is { } seconds
            ? string.Create(CultureInfo.InvariantCulture, $"{name} {seconds} {type} {data}")
            : $"{name} {type} {data}");
        return this;
    }

    private static string Soa(string primary, string mailbox, int serial = 1, int refresh = 3600, int retry = 600, int expire = 86400, int minimum = 60) =>
        string.Create(CultureInfo.InvariantCulture, $"{primary} {mailbox} {serial} {refresh} {retry} {expire} {minimum}");

    private static string Type(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? "AAAA" : "A";

    private static IPAddress Family(IPAddress address, AddressFamily family, string type) => address.AddressFamily == family
        ? address
        : throw new ArgumentException($"{address} is not an address for an {type} record.", nameof(address));

    private static string CharacterStrings(IEnumerable<byte[]> strings)
    {
        var text = new StringBuilder();
        foreach (var octets in strings)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append('"');
            foreach (var b in octets)
            {
                if (b is (byte)'"' or (byte)'\\')
                {
                    text.Append('\\').Append((char)b);
                }
                else if (b is >= 0x20 and < 0x7f)
                {
                    text.Append((char)b);
                }
                else
                {
                    text.Append('\\').Append(b.ToString("D3", CultureInfo.InvariantCulture));
                }
            }

            text.Append('"');
        }

        return text.ToString();
    }
}
