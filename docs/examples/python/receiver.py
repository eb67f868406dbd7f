"""A hookline webhook receiver using only Python's standard library.

It verifies each delivery's Standard Webhooks signature (v1, HMAC-SHA256)
and timestamp, dedupes on webhook-id, answers 204 and prints the event type.

    WEBHOOK_SECRET=whsec_... PORT=3000 python3 receiver.py

See docs/receiving.md for why each step is there.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How far webhook-timestamp may be from this machine's clock: a captured
# request cannot be replayed after it.
TOLERANCE_SECONDS = 5 * 60
MAX_BODY = 1 << 20


def decode_secret(secret):
    """Turns "whsec_<base64>" into the HMAC key: the decoded bytes, not the text."""
    if not secret.startswith("whsec_"):
        raise ValueError("want the endpoint's whsec_... secret")
    return base64.b64decode(secret[len("whsec_"):], validate=True)


def verify(key, msg_id, timestamp, body, header):
    """Whether any of the space-separated "v1,<base64>" signatures (more than
    one while the endpoint's secret is being rotated) is the HMAC-SHA256 of
    "<id>.<timestamp>.<body>"."""
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    want = hmac.new(key, signed, hashlib.sha256).digest()
    for sig in header.split():
        version, _, value = sig.partition(",")
        if version != "v1":
            continue  # v1a (ed25519) or a version this receiver does not know
        try:
            got = base64.b64decode(value, validate=True)
        except binascii.Error:
            continue
        # compare_digest takes the same time wherever the bytes differ.
        if hmac.compare_digest(got, want):
            return True
    return False


KEY = None
SEEN = set()  # webhook-ids handled; use your database in production
SEEN_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return self.reject(400, "bad Content-Length")
        if length > MAX_BODY:
            return self.reject(413, "body too large")
        # Verify the raw bytes as they arrived: a body decoded and encoded
        # again (key order, spacing, escapes) no longer matches its signature.
        body = self.rfile.read(length)
        msg_id = self.headers.get("webhook-id", "")
        timestamp = self.headers.get("webhook-timestamp", "")
        signatures = self.headers.get("webhook-signature", "")
        if not (msg_id and timestamp and signatures):
            return self.reject(400, "missing webhook-id, webhook-timestamp or webhook-signature")
        try:
            sent_at = int(timestamp)
        except ValueError:
            return self.reject(400, "webhook-timestamp is not unix seconds")
        if abs(time.time() - sent_at) > TOLERANCE_SECONDS:
            return self.reject(401, "webhook-timestamp outside the tolerance")
        if not verify(KEY, msg_id, timestamp, body, signatures):
            return self.reject(401, "no valid signature")
        try:
            event = json.loads(body)
        except ValueError:
            return self.reject(400, "body is not a JSON event")

        # Deliveries are at least once: the same webhook-id may come again.
        with SEEN_LOCK:
            duplicate = msg_id in SEEN
            SEEN.add(msg_id)
        # Answer fast: hand slow work to a queue of your own.
        print("duplicate" if duplicate else "received", msg_id, event.get("type"), flush=True)
        self.send_response(204)
        self.end_headers()

    def reject(self, status, reason):
        print("rejected:", reason, file=sys.stderr, flush=True)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reason)))
        self.end_headers()
        self.wfile.write(reason.encode())

    def log_message(self, *args):
        pass  # one line per delivery above is enough


def main():
    global KEY
    try:
        KEY = decode_secret(os.environ.get("WEBHOOK_SECRET", ""))
    except (ValueError, binascii.Error) as err:
        sys.exit(f"WEBHOOK_SECRET: {err}")
    # HOST=0.0.0.0 to take deliveries from other machines.
    addr = (os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "3000")))
    server = ThreadingHTTPServer(addr, Handler)
    print(f"listening on {addr[0]}:{addr[1]}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
