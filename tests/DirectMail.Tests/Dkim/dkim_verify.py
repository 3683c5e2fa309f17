#!/usr/bin/python3
"""Verifies every DKIM-Signature of the message on stdin with dkimpy (Debian python3-dkim), asking the test
name server given as argv[1] (IP:port) for the keys, never the system's resolver.
Prints one line per signature ("pass a=... d=... s=..." or "fail a=... d=... s=...: reason"; the reason is what dkimpy
logged, or "signature does not verify" when the body hash matched and the signature did not); exit 0 only when
there is at least one signature and all pass. ed25519-sha256 (RFC 8463) needs python3-nacl."""
import logging
import sys

import dkim
import dns.message
import dns.query
import dns.rdatatype

server, port = sys.argv[1].rsplit(":", 1)


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode("ascii")
    query = dns.message.make_query(name, dns.rdatatype.TXT, use_edns=0, payload=4096)  # 4096-bit keys do not fit 512 octets
    response = dns.query.udp(query, server, port=int(port), timeout=timeout)
    for rrset in response.answer:
        for rdata in rrset:
            if rdata.rdtype == dns.rdatatype.TXT:
                return b"".join(rdata.strings)
    return None


class Reasons(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


reasons = Reasons()
logger = logging.getLogger("dkim_verify")
logger.addHandler(reasons)
logger.propagate = False

message = sys.stdin.buffer.read()
verifier = dkim.DKIM(message, logger=logger)
count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
if count == 0:
    print("none: the message has no DKIM-Signature")
    sys.exit(2)

ok = True
for index in range(count):
    reasons.messages.clear()
    try:
        passed = verifier.verify(idx=index, dnsfunc=dnsfunc)
        reason = "" if passed else ("; ".join(reasons.messages) or "signature does not verify")
    except Exception as e:  # a DKIMException, or DNS trouble
        passed, reason = False, str(e)
    sig = verifier.signature_fields or {}
    a = sig.get(b"a", b"?").decode()
    d = sig.get(b"d", b"?").decode()
    s = sig.get(b"s", b"?").decode()
    print(("pass" if passed else "fail") + f" a={a} d={d} s={s}" + (f": {reason}" if reason else ""))
    ok = ok and passed

sys.exit(0 if ok else 1)
