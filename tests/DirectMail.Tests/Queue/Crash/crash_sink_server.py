#!/usr/bin/python3
"""The receiving server of the queue's worker crash tests (aiosmtpd, Debian package python3-aiosmtpd).

Accepts every recipient. At the end of DATA it first stores the message in --store as N.eml (the content exactly as
received, dot-stuffing removed) and N.json (the envelope), then waits --reply-delay seconds, then replies 250: a real
server has the message before its reply goes out, and the wait widens that window so that a client killed in it
leaves a message the server kept but the client never heard about. When the client goes away during the wait, the
number N is appended to --store/lost.log. Prints "ready" once listening; listens only on a loopback address.
"""
import argparse
import asyncio
import itertools
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, store, reply_delay):
        self.store = store
        self.reply_delay = reply_delay
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        base = os.path.join(self.store, str(n))
        with open(base + ".json", "w", encoding="utf-8") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        try:
            await asyncio.sleep(self.reply_delay)
        except asyncio.CancelledError:
            with open(os.path.join(self.store, "lost.log"), "a", encoding="utf-8") as f:
                f.write(f"{n}\n")
            raise
        return "250 2.0.0 Ok: queued as SINK%d" % n


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--reply-delay", type=float, default=0.02)
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("refusing to listen outside 127.0.0.0/8")
    handler = Sink(args.store, args.reply_delay)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.crash.test", enable_SMTPUTF8=True, ident="crash sink"),
        host=args.host, port=args.port, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
