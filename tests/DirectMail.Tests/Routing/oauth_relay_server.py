#!/usr/bin/python3
"""A submission relay that takes OAuth 2.0 tokens, for the relay tests (aiosmtpd, Debian package python3-aiosmtpd).

Offers AUTH XOAUTH2 and OAUTHBEARER (RFC 7628) besides aiosmtpd's PLAIN and LOGIN (which refuse everyone), only
after STARTTLS (--tls starttls, the certificate and key given as PEM files), or, with --tls none, in plaintext on a
connection without STARTTLS: a relay (or a man in the middle) that strips it, which no client may send credentials to.
A token is accepted when the user in it is --user and the token is one of --valid-token; any other token gets the
mechanism's error challenge (Google's {"status":"401",...} for XOAUTH2, RFC 7628's {"status":"invalid_token",...} for
OAUTHBEARER), the client's answer to it is read, and 535 5.7.8 follows.

What arrives is written to --store: commands.log, one "CONNECTION VERB" line per command (never its argument);
auth.log, one JSON object per AUTH (mechanism, the initial response exactly as sent in base64, the user and token read
from it, whether it was accepted, the answer to the error challenge in base64); and every accepted message as N.eml
(its content exactly as received, dot-stuffing removed) and N.json (envelope, authenticated user, connection).
With --requiretls it offers REQUIRETLS (RFC 8689) in its EHLO reply once STARTTLS is done and takes the REQUIRETLS
parameter of MAIL FROM; every MAIL command's argument is written to mail.log exactly as received ("CONNECTION FROM:...").
Prints "ready" once listening. Listens only where told (a loopback address in the tests).
"""
import argparse
import asyncio
import base64
import binascii
import itertools
import json
import os
import ssl
import sys

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, syntax

XOAUTH2_ERROR = '{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'
OAUTHBEARER_ERROR = '{"status":"invalid_token","scope":"smtp","openid-configuration":"https://auth.relay.test/.well-known/openid-configuration"}'
REFUSED = "535 5.7.8 Username and Password not accepted"

connection_ids = itertools.count(1)


class Relay:
    def __init__(self, store, user, tokens, requiretls=False):
        self.store = store
        self.user = user
        self.tokens = set(tokens)
        self.requiretls = requiretls
        self.messages = itertools.count(1)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.requiretls and session.ssl is not None:
            # RFC 8689 section 3: offered over TLS only; before the last line (250 HELP).
            responses.insert(len(responses) - 1, "250-REQUIRETLS")
        return responses

    def append(self, name, line):
        with open(os.path.join(self.store, name), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def command(self, connection, verb):
        self.append("commands.log", f"{connection} {verb}")

    async def _token_auth(self, server, args, mechanism, parse, error):
        if len(args) == 2:
            try:
                initial = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            initial = await server.challenge_auth("")
            if initial is MISSING:
                return AuthResult(success=False, handled=True)
        user, token = parse(initial)
        entry = {"connection": server.connection_id, "mechanism": mechanism, "initial": base64.b64encode(initial).decode(),
                 "user": user, "token": token, "accepted": user == self.user and token in self.tokens, "error_response": None}
        if entry["accepted"]:
            self.append("auth.log", json.dumps(entry))
            return AuthResult(success=True, auth_data=user)
        answer = await server.challenge_auth(error)
        entry["error_response"] = None if answer is MISSING else base64.b64encode(answer).decode()
        self.append("auth.log", json.dumps(entry))
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=REFUSED)

    async def auth_XOAUTH2(self, server, args):
        return await self._token_auth(server, args, "XOAUTH2", parse_xoauth2, XOAUTH2_ERROR)

    async def auth_OAUTHBEARER(self, server, args):
        return await self._token_auth(server, args, "OAUTHBEARER", parse_oauthbearer, OAUTHBEARER_ERROR)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.messages)
        base = os.path.join(self.store, str(n))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w", encoding="utf-8") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "auth_user": session.auth_data, "connection": server.connection_id}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as OAUTH%d" % n


def bearer(pairs):
    for pair in pairs:
        if pair.startswith(b"auth=Bearer "):
            return pair[len(b"auth=Bearer "):].decode("utf-8", "replace")
    return None


def parse_xoauth2(data):
    """user=U ^A auth=Bearer T ^A ^A"""
    pairs = data.split(b"\x01")
    user = next((p[5:].decode("utf-8", "replace") for p in pairs if p.startswith(b"user=")), None)
    return user, bearer(pairs)


def parse_oauthbearer(data):
    """RFC 7628 section 3.1: gs2-header (n,a=U,) ^A key=value pairs ^A ^A; the authzid escapes = and , (RFC 5801)."""
    header, _, rest = data.partition(b"\x01")
    user = None
    for field in header.split(b","):
        if field.startswith(b"a="):
            user = field[2:].replace(b"=2C", b",").replace(b"=3D", b"=").decode("utf-8", "replace")
    return user, bearer(rest.split(b"\x01"))


class RecordingSMTP(SMTP):
    """aiosmtpd's server with every command's verb written to commands.log under the connection's number."""

    def __init__(self, handler, **kwargs):
        super().__init__(handler, **kwargs)
        self.connection_id = next(connection_ids)
        for verb, method in list(self._smtp_methods.items()):
            self._smtp_methods[verb] = self._recorded(verb, method)

    def _recorded(self, verb, method):
        async def run(arg):
            self.event_handler.command(self.connection_id, verb)
            await method(arg)
        return run

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg):
        self.event_handler.append("mail.log", f"{self.connection_id} {arg}")
        if arg and self.event_handler.requiretls and self.session.ssl is not None:
            # aiosmtpd knows no REQUIRETLS: the parameter is taken here (and dropped) so that MAIL goes on.
            words = arg.split(" ")
            kept = [w for w in words if w.upper() != "REQUIRETLS"]
            arg = " ".join(kept)
        await super().smtp_MAIL(arg)

    def connection_lost(self, error):
        self.event_handler.command(self.connection_id, "<closed>")
        super().connection_lost(error)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--tls", choices=["starttls", "none"], default="starttls")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user", required=True)
    parser.add_argument("--valid-token", action="append", default=[])
    parser.add_argument("--requiretls", action="store_true")
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("refusing to listen outside 127.0.0.0/8")
    handler = Relay(args.store, args.user, args.valid_token, args.requiretls)
    context = None
    if args.tls == "starttls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: RecordingSMTP(handler, hostname="oauth.relay.test", ident="oauth relay", tls_context=context,
                              require_starttls=context is not None, auth_require_tls=context is not None),
        host=args.host, port=args.port, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
