using System;
using System.Collections.Generic;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using DirectMail.Security;
using DirectMail.Security.Dane;

namespace DirectMail.Tests.Security.Dane;

/// <summary>
/// The DANE certificate check (RFC 7672 section 3, RFC 7671) with certificates made in the test: every usage, selector
/// and matching type, against the right certificate and a wrong one, and the records SMTP must not use.
/// </summary>
public sealed class DaneCertificateCheckTests
{
    private const string MxHost = "mx.dane.test";

    private static readonly X509Certificate2 Root = DaneCertificates.Root("DANE Test Root");
    private static readonly X509Certificate2 Intermediate = DaneCertificates.Intermediate(Root, "DANE Test Intermediate");
    private static readonly X509Certificate2 Leaf = DaneCertificates.Leaf(Intermediate, MxHost);
    private static readonly X509Certificate2 Other = DaneCertificates.SelfSigned(MxHost);

    public static TheoryData<byte, byte> SelectorsAndMatchingTypes()
    {
        var data = new TheoryData<byte, byte>();
        foreach (byte selector in new byte[] { 0, 1 })
        {
            foreach (byte matching in new byte[] { 0, 1, 2 })
            {
                data.Add(selector, matching);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SelectorsAndMatchingTypes))]
    public void DANE_EE_matching_the_server_certificate_accepts_it_as_DaneEe(byte selector, byte matching)
    {
        var check = Check(DaneCertificates.Association(3, selector, matching, Leaf));

        Assert.Null(check.Check(MxHost, Leaf, Presented(Intermediate, Root), SslPolicyErrors.None));
        Assert.Equal(TlsPostureKind.DaneEe, check.PostureOnSuccess);
        Assert.Equal((3, selector, matching), (check.MatchedRecord!.Usage, check.MatchedRecord.Selector, check.MatchedRecord.MatchingType));
    }

    [Theory]
    [MemberData(nameof(SelectorsAndMatchingTypes))]
    public void DANE_EE_naming_another_certificate_refuses_with_TlsaInvalid(byte selector, byte matching)
    {
        // Stops: a man in the middle presenting his own certificate for the MX host's name.
        var check = Check(DaneCertificates.Association(3, selector, matching, Other));

        Assert.Equal(TlsFailureType.TlsaInvalid, check.Check(MxHost, Leaf, Presented(Intermediate, Root), SslPolicyErrors.None));
        Assert.Null(check.MatchedRecord);
        Assert.Contains("matches none", check.FailureDetail);
    }

    [Theory]
    [MemberData(nameof(SelectorsAndMatchingTypes))]
    public void DANE_EE_with_one_changed_byte_refuses(byte selector, byte matching)
    {
        // Stops: a digest compared by prefix, by length, or not at all.
        var data = DaneCertificates.Data(Leaf, selector, matching);
        data[^1] ^= 0x01;
        var check = Check(new TlsaAssociation(3, selector, matching, data));

        Assert.Equal(TlsFailureType.TlsaInvalid, check.Check(MxHost, Leaf, null, SslPolicyErrors.None));
    }

    [Fact]
    public void DANE_EE_ignores_the_certificate_names_dates_and_the_platform_errors()
    {
        // RFC 7672 section 3.1.1: with DANE-EE the key is the identity; an expired self-signed certificate naming
        // another host is fine when the TLSA record names it.
        var expired = DaneCertificates.SelfSigned("elsewhere.example", DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        var check = Check(DaneCertificates.Association(3, 1, 1, expired));

        var errors = SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors;
        Assert.Null(check.Check(MxHost, expired, null, errors));
        Assert.Equal(TlsPostureKind.DaneEe, check.PostureOnSuccess);
    }

    [Theory]
    [MemberData(nameof(SelectorsAndMatchingTypes))]
    public void DANE_TA_matching_the_root_in_the_presented_chain_accepts_as_DaneTa(byte selector, byte matching)
    {
        var check = Check(DaneCertificates.Association(2, selector, matching, Root));

        Assert.Null(check.Check(MxHost, Leaf, Presented(Intermediate, Root), SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.Equal(TlsPostureKind.DaneTa, check.PostureOnSuccess);
    }

    [Theory]
    [MemberData(nameof(SelectorsAndMatchingTypes))]
    public void DANE_TA_matching_the_intermediate_accepts_as_DaneTa(byte selector, byte matching)
    {
        // RFC 7671 section 5.2.2: the trust anchor may be any issuer in the chain, not only a self-signed root.
        var check = Check(DaneCertificates.Association(2, selector, matching, Intermediate));

        Assert.Null(check.Check(MxHost, Leaf, Presented(Intermediate), SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.Equal(TlsPostureKind.DaneTa, check.PostureOnSuccess);
    }

    [Theory]
    [MemberData(nameof(SelectorsAndMatchingTypes))]
    public void DANE_TA_naming_another_CA_refuses_with_TlsaInvalid(byte selector, byte matching)
    {
        var otherRoot = DaneCertificates.Root("DANE Test Root");
        var check = Check(DaneCertificates.Association(2, selector, matching, otherRoot));

        Assert.Equal(TlsFailureType.TlsaInvalid, check.Check(MxHost, Leaf, Presented(Intermediate, Root), SslPolicyErrors.None));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DANE_TA_refuses_a_leaf_not_signed_by_the_matching_anchor_presented_beside_it(bool authorityKeyIdentifier)
    {
        // Stops: an attacker who presents the real (public) CA certificate next to a leaf signed by his own key of the
        // same CA name; the anchor matches, the signature does not (without an authority key identifier the chain is
        // built by name, and the signature check must catch it).
        var impostorCa = DaneCertificates.Intermediate(DaneCertificates.Root("Impostor"), "DANE Test Intermediate");
        var forged = DaneCertificates.Leaf(impostorCa, MxHost, authorityKeyIdentifier: authorityKeyIdentifier);
        var check = Check(DaneCertificates.Association(2, 1, 1, Intermediate));

        Assert.Equal(TlsFailureType.TlsaInvalid, check.Check(MxHost, forged, Presented(Intermediate, Root), SslPolicyErrors.None));
    }

    [Fact]
    public void DANE_TA_refuses_a_leaf_that_names_another_host()
    {
        // RFC 7672 section 3.2.2: unlike DANE-EE, a DANE-TA leaf must name the MX host (or the TLSA base domain): the CA
        // may have issued certificates for other hosts.
        var otherHost = DaneCertificates.Leaf(Intermediate, "other.dane.test");
        var check = Check(DaneCertificates.Association(2, 1, 1, Root));

        Assert.Equal(TlsFailureType.CertificateHostMismatch, check.Check(MxHost, otherHost, Presented(Intermediate, Root), SslPolicyErrors.None));
        Assert.Contains("names neither", check.FailureDetail);
    }

    [Fact]
    public void DANE_TA_accepts_a_leaf_that_names_the_TLSA_base_domain()
    {
        // The MX host mx.dane.test is a CNAME for smtp.hosting.test, where the TLSA records are: that name is a reference identifier.
        var hosted = DaneCertificates.Leaf(Intermediate, "smtp.hosting.test");
        var lookup = TlsaLookup.FromRecords("smtp.hosting.test", "_25._tcp.smtp.hosting.test", [DaneCertificates.Association(2, 0, 1, Root)]);
        var check = new DaneCertificateCheck(lookup);

        Assert.Null(check.Check(MxHost, hosted, Presented(Intermediate, Root), SslPolicyErrors.RemoteCertificateNameMismatch));
    }

    [Fact]
    public void DANE_TA_accepts_a_wildcard_for_the_MX_host()
    {
        var wildcard = DaneCertificates.Leaf(Intermediate, "*.dane.test");
        var check = Check(DaneCertificates.Association(2, 1, 2, Root));

        Assert.Null(check.Check(MxHost, wildcard, Presented(Intermediate, Root), SslPolicyErrors.None));
    }

    [Fact]
    public void DANE_TA_refuses_an_expired_leaf_with_CertificateExpired()
    {
        // RFC 7672 section 3.1.2: with a trust anchor, the chain is validated as PKIX would, dates included.
        var expired = DaneCertificates.Leaf(Intermediate, MxHost, DateTimeOffset.UtcNow.AddHours(-12), DateTimeOffset.UtcNow.AddHours(-1));
        var check = Check(DaneCertificates.Association(2, 1, 1, Root));

        Assert.Equal(TlsFailureType.CertificateExpired, check.Check(MxHost, expired, Presented(Intermediate, Root), SslPolicyErrors.None));
    }

    [Fact]
    public void DANE_TA_by_key_needs_the_anchor_in_the_presented_chain()
    {
        // RFC 7672 section 3.1.2: the server must send its trust anchor; a digest of it cannot be checked without it.
        var check = Check(DaneCertificates.Association(2, 1, 1, Root));

        Assert.Equal(TlsFailureType.TlsaInvalid, check.Check(MxHost, Leaf, Presented(Intermediate), SslPolicyErrors.None));
    }

    [Fact]
    public void DANE_TA_with_the_whole_anchor_certificate_in_the_record_needs_no_copy_in_the_chain()
    {
        // A "2 0 0" record carries the anchor itself (RFC 7671 section 5.2.2).
        var check = Check(DaneCertificates.Association(2, 0, 0, Root));

        Assert.Null(check.Check(MxHost, Leaf, Presented(Intermediate), SslPolicyErrors.None));
        Assert.Equal(TlsPostureKind.DaneTa, check.PostureOnSuccess);
    }

    [Fact]
    public void With_both_usages_the_one_that_matched_is_the_posture()
    {
        var ee = DaneCertificates.Association(3, 1, 1, Other);
        var ta = DaneCertificates.Association(2, 1, 1, Root);

        var byAnchor = Check(ee, ta);
        Assert.Null(byAnchor.Check(MxHost, Leaf, Presented(Intermediate, Root), SslPolicyErrors.None));
        Assert.Equal(TlsPostureKind.DaneTa, byAnchor.PostureOnSuccess);

        var byKey = Check(ee, ta);
        Assert.Null(byKey.Check(MxHost, Other, null, SslPolicyErrors.None));
        Assert.Equal(TlsPostureKind.DaneEe, byKey.PostureOnSuccess);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void PKIX_usages_are_ignored_even_when_they_match(byte usage)
    {
        // RFC 7672 section 3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP. A client that used a matching "1 1 1"
        // would accept a certificate the domain never meant to be checked that way; here only the wrong DANE-EE counts.
        var lookup = TlsaLookup.FromRecords(MxHost, "_25._tcp." + MxHost, [DaneCertificates.Association(usage, 1, 1, Leaf), DaneCertificates.Association(3, 1, 1, Other)]);
        Assert.Equal(TlsaLookupStatus.Usable, lookup.Status);
        Assert.Single(lookup.Usable);
        Assert.False(lookup.Records[0].IsUsable);
        Assert.Contains("RFC 7672 section 3.1.3", lookup.Records[0].UnusableReason);

        Assert.Equal(TlsFailureType.TlsaInvalid, new DaneCertificateCheck(lookup).Check(MxHost, Leaf, Presented(Intermediate, Root), SslPolicyErrors.None));
    }

    [Fact]
    public void An_unknown_matching_type_or_selector_is_ignored()
    {
        var unknownMatching = new TlsaAssociation(3, 1, 3, DaneCertificates.Data(Leaf, 1, 1));
        var unknownSelector = new TlsaAssociation(3, 2, 1, DaneCertificates.Data(Leaf, 1, 1));
        var unknownUsage = new TlsaAssociation(4, 1, 1, DaneCertificates.Data(Leaf, 1, 1));
        var shortDigest = new TlsaAssociation(3, 1, 1, DaneCertificates.Data(Leaf, 1, 1)[..31]);
        var lookup = TlsaLookup.FromRecords(MxHost, "_25._tcp." + MxHost, [unknownMatching, unknownSelector, unknownUsage, shortDigest, DaneCertificates.Association(3, 1, 1, Other)]);

        Assert.Equal(["matching type 3 is not defined", "selector 2 is not defined", "usage 4 is not defined", "a SHA-256 digest is 32 bytes"], new[]
        {
            lookup.Records[0].UnusableReason![..30], lookup.Records[1].UnusableReason![..25], lookup.Records[2].UnusableReason![..22], lookup.Records[3].UnusableReason![..28],
        });
        Assert.Equal(TlsFailureType.TlsaInvalid, new DaneCertificateCheck(lookup).Check(MxHost, Leaf, null, SslPolicyErrors.None));
    }

    [Fact]
    public void A_set_with_no_usable_record_means_TLS_without_a_certificate_check()
    {
        // RFC 7672 section 2.2: the records still say the host does TLS; the decision is TLS required, no check.
        var lookup = TlsaLookup.FromRecords(MxHost, "_25._tcp." + MxHost, [DaneCertificates.Association(1, 1, 1, Leaf), DaneCertificates.Association(0, 0, 1, Root), new TlsaAssociation(3, 1, 9, [1, 2, 3])]);

        Assert.Equal(TlsaLookupStatus.NoneUsable, lookup.Status);
        Assert.True(lookup.RequiresTls);
        Assert.Empty(lookup.Usable);
        Assert.Equal(3, lookup.Records.Length);
        Assert.Throws<ArgumentException>(() => new DaneCertificateCheck(lookup));
    }

    [Fact]
    public void A_SHA_512_record_supersedes_the_SHA_256_ones_of_its_usage_and_selector()
    {
        // RFC 7671 section 9 (digest algorithm agility): a matching SHA-256 record beside a SHA-512 one for the same
        // usage and selector is not used, so a broken weaker digest cannot be used to get around the stronger one.
        var lookup = TlsaLookup.FromRecords(MxHost, "_25._tcp." + MxHost, [DaneCertificates.Association(3, 1, 1, Leaf), DaneCertificates.Association(3, 1, 2, Other), DaneCertificates.Association(3, 0, 1, Other)]);

        Assert.False(lookup.Records[0].IsUsable);
        Assert.Contains("RFC 7671 section 9", lookup.Records[0].UnusableReason);
        Assert.True(lookup.Records[2].IsUsable); // another selector: not superseded
        Assert.Equal(TlsFailureType.TlsaInvalid, new DaneCertificateCheck(lookup).Check(MxHost, Leaf, null, SslPolicyErrors.None));
    }

    [Fact]
    public void No_certificate_is_a_validation_failure()
    {
        var check = Check(DaneCertificates.Association(3, 1, 1, Leaf));

        Assert.Equal(TlsFailureType.ValidationFailure, check.Check(MxHost, Leaf, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public void The_presentation_form_is_usage_selector_matching_and_upper_case_hex()
    {
        Assert.Equal("3 1 1 0A0BFF", new TlsaAssociation(3, 1, 1, [0x0A, 0x0B, 0xFF]).ToString());
    }

    private static DaneCertificateCheck Check(params TlsaAssociation[] records) =>
        new(TlsaLookup.FromRecords(MxHost, "_25._tcp." + MxHost, records));

    /// <summary>A chain as SslStream hands it to the validation callback: the certificates the server sent, in ExtraStore.</summary>
    private static X509Chain Presented(params X509Certificate2[] sent)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.ExtraStore.AddRange(sent);
        return chain;
    }
}
