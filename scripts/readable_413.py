#!/usr/bin/env python3
"""Does a client that writes its whole body before reading get its 413? (issue 16, item 3)

Starts a Conduit binary on a scratch database, then sends ROUNDS requests with a 3 MB body
(three times the default BODY_LIMIT_BYTES) through Python's http.client, which writes the
whole body before reading the answer, optionally while LOAD processes burn CPU. Prints how
many requests read their 413 and how many failed (broken pipe, reset...).

    python3 scripts/readable_413.py [--binary target/release/conduit] [--rounds 48] [--load 2]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth); the database is dropped.
"""

import argparse
import collections
import http.client
import multiprocessing
import os
import socket
import subprocess
import time
import urllib.request


def burn(stop):
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=f"{target}/release/conduit")
    parser.add_argument("--rounds", type=int, default=48)
    parser.add_argument("--load", type=int, default=2, help="CPU-burning processes")
    parser.add_argument("--size", type=int, default=3 * 1024 * 1024)
    args = parser.parse_args()

    port = free_port()
    db = f"conduit_413_{os.getpid()}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "PORT": str(port),
        "DEMO_DATA": "false", "FRONTEND_BUILD": "false",
        "RUST_LOG": "warn",
        "LOG_FORMAT": "json",
    }
    server = subprocess.Popen([args.binary], env=env, stdout=subprocess.DEVNULL)
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=burn, args=(stop,)) for _ in range(args.load)]
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        for p in burners:
            p.start()
        body = b" " * args.size
        outcomes = collections.Counter()
        for _ in range(args.rounds):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("POST", "/graphql", body=body,
                             headers={"Content-Type": "application/json"})
                outcomes[f"read {conn.getresponse().status}"] += 1
            except OSError as err:
                outcomes[type(err).__name__] += 1
            finally:
                conn.close()
        print(f"{args.binary}: {args.rounds} POSTs of {args.size} bytes, "
              f"{args.load} CPU burners: {dict(outcomes)}")
    finally:
        stop.set()
        for p in burners:
            if p.is_alive():
                p.join()
        server.terminate()
        server.wait()
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                        f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
