#!/usr/bin/python3
"""A greylisting SMTP server for the delivery tests (aiosmtpd, Debian package python3-aiosmtpd).

Answers the first RCPT of every (client address, sender, recipient) triple with Postgrey's 450 4.2.0 reply, and
keeps answering it until --delay seconds have passed since that first try; then it accepts the triple. Every
message it accepts is stored in --store as N.eml (the content exactly as received, dot-stuffing removed) and
N.json (the envelope); every RCPT decision is appended to --store/rcpt.log. With --reply-delay it waits that long
between storing a message and its 250 (the queue's crash tests widen that window) and appends N to --store/lost.log
when the client goes away in the wait. Prints "ready" once listening.
Listens only where told (a loopback address in the tests).
"""
import argparse
import asyncio
import itertools
import json
import os
import sys
import time

from aiosmtpd.smtp import SMTP


class Greylist:
    def __init__(self, store, delay, reply_delay):
        self.store = store
        self.delay = delay
        self.reply_delay = reply_delay
        self.first_seen = {}
        self.counter = itertools.count(1)

    def log(self, line):
        with open(os.path.join(self.store, "rcpt.log"), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = (session.peer[0], envelope.mail_from, address.lower())
        now = time.monotonic()
        first = self.first_seen.setdefault(key, now)
        if now - first < self.delay:
            self.log(f"450 {session.peer[0]} {envelope.mail_from} {address}")
            return ("450 4.2.0 <%s>: Recipient address rejected: Greylisted, see "
                    "http://postgrey.schweikert.ch/help/deliver.test.html" % address)
        self.log(f"250 {session.peer[0]} {envelope.mail_from} {address}")
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        base = os.path.join(self.store, str(n))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w", encoding="utf-8") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "peer": session.peer[0]}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        if self.reply_delay > 0:
            try:
                await asyncio.sleep(self.reply_delay)
            except asyncio.CancelledError:
                with open(os.path.join(self.store, "lost.log"), "a", encoding="utf-8") as f:
                    f.write(f"{n}\n")
                raise
        return "250 2.0.0 Ok: queued as GREY%d" % n


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--reply-delay", type=float, default=0)
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("refusing to listen outside 127.0.0.0/8")
    handler = Greylist(args.store, args.delay, args.reply_delay)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="greylist.deliver.test", enable_SMTPUTF8=True, ident="Postfix"),
        host=args.host, port=args.port, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
