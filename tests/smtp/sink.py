"""A real SMTP server for the email tests (tests/api/email.rs): aiosmtpd on 127.0.0.1.

    python3 tests/smtp/sink.py PORT DIR [--delay SECONDS]

Accepts every message, writes each as DIR/<n>.eml and, decoded by Python's email package,
DIR/<n>.json ({"envelope_to", "headers": {name: [values]}, "text", "html"}); n counts from
1, and each file is written to a temporary name first and renamed, so a reader never sees
half a file (the .json is renamed last). It prints "listening PORT"
once it accepts connections. With --delay it waits that long before answering DATA (a
slow server, for tests that kill a worker mid-delivery). Runs until killed.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, delay):
        self.directory = directory
        self.delay = delay
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        n = next(self.counter)
        raw = envelope.original_content or envelope.content
        self.write(f"{n}.eml", raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        headers = {}
        for name, value in message.items():
            headers.setdefault(name.lower(), []).append(str(value))
        parts = {}
        for kind in ("plain", "html"):
            body = message.get_body(preferencelist=(kind,))
            parts[kind] = body.get_content() if body is not None else None
        decoded = {
            "envelope_to": envelope.rcpt_tos,
            "headers": headers,
            "text": parts["plain"],
            "html": parts["html"],
        }
        self.write(f"{n}.json", json.dumps(decoded).encode())
        return "250 OK"

    def write(self, name, data):
        tmp = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.directory, name))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("directory")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    controller = Controller(Sink(args.directory, args.delay), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"listening {args.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
