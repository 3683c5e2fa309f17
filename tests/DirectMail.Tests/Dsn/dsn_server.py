#!/usr/bin/python3
"""An SMTP server for the DSN parameter tests (aiosmtpd, Debian package python3-aiosmtpd).

aiosmtpd itself implements no DSN: it answers "555 MAIL FROM parameters not recognized or not implemented" (or the
RCPT form) to any RET, ENVID, NOTIFY or ORCPT, as a server that does not offer the extension may. That is the server
without --dsn: a client that sends the parameters anyway has its mail refused.

With --dsn it offers DSN in its EHLO reply and takes the RFC 3461 parameters, checking their syntax (RET=FULL|HDRS;
ENVID and ORCPT as xtext, ORCPT with an address type; NOTIFY=NEVER alone or any of SUCCESS, FAILURE, DELAY), and
answers 501 to a malformed one.

Every MAIL and RCPT command line is written to --store/commands.log exactly as received (case kept); every accepted
message as N.eml (content as received, dot-stuffing removed) and N.json (envelope). Prints "ready" once listening.
Listens only on 127.0.0.0/8.
"""
import argparse
import asyncio
import itertools
import json
import os
import re
import sys

from aiosmtpd.smtp import SMTP

XTEXT = re.compile(r"^(?:[!-*,-<>-~]|\+[0-9A-F]{2})+$")
NOTIFY_VALUES = {"SUCCESS", "FAILURE", "DELAY"}


def dsn_error(params):
    """The reason the DSN parameters in the dict are malformed, or None."""
    if "RET" in params and params["RET"] not in ("FULL", "HDRS"):
        return "RET"
    for key in ("ENVID", "ORCPT"):
        if key in params:
            value = params[key]
            if not isinstance(value, str):
                return key
            text = value.split(";", 1)[1] if key == "ORCPT" and ";" in value else value
            if key == "ORCPT" and ";" not in value:
                return key
            if not XTEXT.match(text):
                return key
    if "NOTIFY" in params:
        values = str(params["NOTIFY"]).split(",")
        if values != ["NEVER"] and not set(values) <= NOTIFY_VALUES:
            return "NOTIFY"
    return None


class Store:
    def __init__(self, store):
        self.store = store
        self.messages = itertools.count(1)

    def command(self, line):
        with open(os.path.join(self.store, "commands.log"), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if server.offer_dsn:
            responses.insert(len(responses) - 1, "250-DSN")
        return responses

    async def handle_DATA(self, server, session, envelope):
        n = next(self.messages)
        base = os.path.join(self.store, str(n))
        with open(base + ".json", "w", encoding="utf-8") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as DSN%d" % n


class DsnSMTP(SMTP):
    def __init__(self, handler, offer_dsn, **kwargs):
        super().__init__(handler, **kwargs)
        self.offer_dsn = offer_dsn
        self.dsn_error = None
        for verb in ("MAIL", "RCPT"):
            self._smtp_methods[verb] = self._recorded(verb, self._smtp_methods[verb])

    def _recorded(self, verb, method):
        async def run(arg):
            self.event_handler.command(verb + " " + (arg or ""))
            self.dsn_error = None
            await method(arg)
        return run

    def _getparams(self, params):
        result = super()._getparams(params)
        if result is None or not self.offer_dsn:
            return result
        # aiosmtpd upper-cases the whole parameter string before this; xtext's hex digits are upper case anyway.
        found = {k: result.pop(k) for k in ("RET", "ENVID", "NOTIFY", "ORCPT") if k in result}
        return None if dsn_error(found) else result


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--dsn", action="store_true")
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("refusing to listen outside 127.0.0.0/8")
    handler = Store(args.store)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: DsnSMTP(handler, args.dsn, hostname="dsn.aiosmtpd.test", ident="dsn test server"),
        host=args.host, port=args.port, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
