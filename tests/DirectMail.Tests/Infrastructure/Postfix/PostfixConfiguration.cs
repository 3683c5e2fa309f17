using System.Globalization;
using System.IO;

namespace DirectMail.Tests.Infrastructure.Postfix;

/// <summary>
/// The files of the private Postfix instance: main.cf, master.cf, the mailbox table and the supervisor script.
/// Everything lives under one temporary directory; nothing of the distribution's own instance is used or touched.
/// </summary>
internal static class PostfixConfiguration
{
    /// <summary>The local part that is not in the mailbox table: RCPT TO gets 550 5.1.1.</summary>
    public const string UnknownLocalPart = "unknown";

    /// <summary>The Maildir every accepted recipient is delivered into, under the mailbox base.</summary>
    public const string InboxName = "inbox";

    public static string MainCf(string root, string address, int messageSizeLimit) => string.Create(CultureInfo.InvariantCulture, $"""
        # Written by the DirectMail test fixture; see PostfixFixture.
        compatibility_level = 3.6
        queue_directory = {root}/queue
        data_directory = {root}/data
        maillog_file = {root}/maillog
        maillog_file_prefixes = {root}

        # The SMTP server listens only where master.cf says ({address}). inet_interfaces must name an address that
        # some interface has, and 127.0.25.x is routed by lo without being configured on it: loopback-only keeps
        # Postfix on lo without listening anywhere (master.cf has no service on a bare port).
        inet_interfaces = loopback-only
        inet_protocols = ipv4
        myhostname = {PostfixFixture.HostName}
        mydomain = {PostfixFixture.Domain}
        myorigin = $myhostname
        mydestination =
        mynetworks = 127.0.0.0/8
        smtpd_banner = $myhostname ESMTP Postfix (DirectMail tests)

        # Nothing leaves this instance: no relay, no DNS, no local or outbound delivery.
        relayhost =
        default_transport = error:outbound delivery is disabled in tests
        relay_transport = error:relaying is disabled in tests
        local_transport = error:local delivery is disabled in tests
        smtp_dns_support_level = disabled
        smtp_host_lookup = native
        lmtp_host_lookup = native
        smtpd_peername_lookup = no
        smtpd_client_port_logging = yes
        alias_maps =
        alias_database =
        biff = no
        notify_classes =
        delay_warning_time = 0

        # The stored message is the one the client sent: no header rewriting or added headers.
        local_header_rewrite_clients =
        always_add_missing_headers = no
        append_dot_mydomain = no

        # One domain Postfix relays, to a test's own server: what that server refuses, Postfix bounces (its DSNs are
        # compared with DirectMail's). Everything else stays disabled.
        relay_domains = {PostfixFixture.RelayedDomain}
        transport_maps = texthash:{root}/etc/transport
        smtp_tls_security_level = none
        smtp_connect_timeout = 5s

        # Final delivery of every {PostfixFixture.Domain} recipient but "{UnknownLocalPart}" into one Maildir.
        virtual_mailbox_domains = {PostfixFixture.Domain}
        virtual_mailbox_base = {root}/mail
        virtual_mailbox_maps = regexp:{root}/etc/vmailbox
        virtual_uid_maps = static:65534
        virtual_gid_maps = static:65534
        virtual_mailbox_limit = 0
        mailbox_size_limit = 0
        message_size_limit = {messageSizeLimit}
        smtpd_reject_unlisted_recipient = yes

        # A strict judge of the client: a bare LF in the data is refused (the SMTP smuggling fix, also for loopback
        # clients), and so is pipelining where RFC 2920 does not allow it (e.g. content before the 354).
        smtpd_forbid_bare_newline = reject
        smtpd_forbid_bare_newline_exclusions =
        smtpd_forbid_unauth_pipelining = yes

        smtputf8_enable = yes
        smtpd_discard_ehlo_keywords =
        smtpd_relay_restrictions = reject_unauth_destination
        smtpd_recipient_restrictions =

        # STARTTLS with the fixture's self-signed certificate.
        smtpd_tls_security_level = may
        smtpd_tls_chain_files = {root}/etc/tls/key.pem, {root}/etc/tls/cert.pem
        smtpd_tls_received_header = yes
        smtpd_tls_loglevel = 1
        tls_random_source = dev:/dev/urandom

        # SMTP AUTH on the submission services only (master.cf): Cyrus SASL with a sasldb of its own (PostfixFixture.RelayUser).
        smtpd_sasl_type = cyrus
        smtpd_sasl_path = smtpd
        cyrus_sasl_config_path = {root}/etc/sasl
        smtpd_sasl_local_domain = $myhostname
        smtpd_sasl_security_options = noanonymous
        smtpd_sasl_tls_security_options = noanonymous

        # Every command and reply of the tests' sessions goes to the log, for failure messages.
        debug_peer_list = 127.0.0.0/8
        debug_peer_level = 1

        """);

    public static string MasterCf(string address, int port) => string.Create(CultureInfo.InvariantCulture, $"""
        # service type  private unpriv  chroot  wakeup  maxproc command
        {address}:{port} inet n - n - - smtpd
        {address}:{PostfixFixture.SubmissionsPort} inet n - n - - smtpd
          -o smtpd_tls_wrappermode=yes
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_client_restrictions=permit_sasl_authenticated,reject
        {address}:{PostfixFixture.SubmissionPort} inet n - n - - smtpd
          -o smtpd_tls_security_level=encrypt
          -o smtpd_tls_auth_only=yes
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_client_restrictions=permit_sasl_authenticated,reject
        pickup    unix  n       -       n       60      1       pickup
        cleanup   unix  n       -       n       -       0       cleanup
        qmgr      unix  n       -       n       300     1       qmgr
        tlsmgr    unix  -       -       n       1000?   1       tlsmgr
        rewrite   unix  -       -       n       -       -       trivial-rewrite
        bounce    unix  -       -       n       -       0       bounce
        defer     unix  -       -       n       -       0       bounce
        trace     unix  -       -       n       -       0       bounce
        verify    unix  -       -       n       -       1       verify
        flush     unix  n       -       n       1000?   0       flush
        proxymap  unix  -       -       n       -       -       proxymap
        smtp      unix  -       -       n       -       -       smtp
        error     unix  -       -       n       -       -       error
        retry     unix  -       -       n       -       -       error
        discard   unix  -       -       n       -       -       discard
        virtual   unix  -       n       n       -       -       virtual
        anvil     unix  -       -       n       -       1       anvil
        scache    unix  -       -       n       -       1       scache
        postlog   unix-dgram n  -       n       -       1       postlogd

        """);

    /// <summary>
    /// The mailbox table. virtual(8) refuses $1 substitutions from regexp tables, so every known recipient shares
    /// one Maildir; the fixture tells messages apart by their Message-ID and Delivered-To.
    /// </summary>
    public static string MailboxTable() => $"""
        if !/^{UnknownLocalPart}@/
        /^[a-z0-9][a-z0-9.+-]*@{PostfixFixture.Domain.Replace(".", "\\.", System.StringComparison.Ordinal)}$/ {InboxName}/
        endif

        """;

    /// <summary>The transport table: the relayed domain goes to the test server's address and port, without DNS.</summary>
    public static string TransportTable() =>
        $"{PostfixFixture.RelayedDomain} smtp:[{PostfixFixture.RelayTarget.Address}]:{PostfixFixture.RelayTarget.Port}\n";

    /// <summary>Cyrus SASL's configuration for smtpd: passwords from the fixture's sasldb, the mechanisms DirectMail speaks.</summary>
    public static string SaslSmtpdConf(string root) => $"""
        pwcheck_method: auxprop
        auxprop_plugin: sasldb
        mech_list: PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256
        sasldb_path: {root}/etc/sasldb2

        """;

    public static void Write(string path, string text) => File.WriteAllText(path, text.Replace("\r\n", "\n", System.StringComparison.Ordinal));
}
