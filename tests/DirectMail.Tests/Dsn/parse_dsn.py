"""Parses a delivery status notification from stdin with Python's email package and prints what it found as JSON:
the content types of the parts, the report's field blocks, the returned header's fields, and every defect the
parser noted (an independent reader of RFC 3464 / RFC 6533 structure)."""
import email
import email.policy
import json
import sys

msg = email.message_from_binary_file(sys.stdin.buffer, policy=email.policy.default)
out = {
    "type": msg.get_content_type(),
    "report_type": msg.get_param("report-type"),
    "auto_submitted": msg["Auto-Submitted"],
    "parts": [],
    "blocks": [],
    "returned": {},
    "defects": [type(d).__name__ for d in msg.defects],
}
for part in msg.iter_parts():
    out["parts"].append(part.get_content_type())
    out["defects"] += [type(d).__name__ for d in part.defects]
    ctype = part.get_content_type()
    if ctype in ("message/delivery-status", "message/global-delivery-status"):
        payload = part.get_payload()
        if ctype == "message/delivery-status":
            for block in payload:
                out["blocks"].append({k: str(v) for k, v in block.items()})
        else:
            # Python reads message/global-delivery-status as one message: its header is the first block, its body
            # holds the others, split here.
            first = payload[0] if isinstance(payload, list) else None
            if first is not None:
                out["blocks"].append({k: str(v) for k, v in first.items()})
                text = first.get_payload(decode=True).decode("utf-8")
            else:
                text = part.get_payload(decode=True).decode("utf-8")
            for chunk in text.replace("\r\n", "\n").strip("\n").split("\n\n"):
                fields = {}
                for line in chunk.split("\n"):
                    if line[:1] in (" ", "\t") and fields:
                        key = list(fields)[-1]
                        fields[key] += " " + line.strip()
                    elif ":" in line:
                        k, v = line.split(":", 1)
                        fields[k] = v.strip()
                out["blocks"].append(fields)
    elif ctype in ("text/rfc822-headers", "message/global-headers"):
        payload = part.get_payload()
        if isinstance(payload, list):
            # message/global-headers is read as a message of its own.
            returned = payload[0]
        else:
            returned = email.message_from_bytes(part.get_payload(decode=True) or b"", policy=email.policy.default)
        out["returned"] = {k: str(v) for k, v in returned.items()}
    elif ctype in ("message/rfc822", "message/global"):
        inner = part.get_payload()[0] if isinstance(part.get_payload(), list) else email.message_from_bytes(part.get_payload(decode=True), policy=email.policy.default)
        out["returned"] = {k: str(v) for k, v in inner.items()}
        out["returned_body"] = inner.get_payload() if not inner.is_multipart() else None
print(json.dumps(out))
