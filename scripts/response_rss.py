#!/usr/bin/env python3
"""Peak RSS of a Conduit server under the issue-16 item-2 read: 30 articles with bodies of
100,000 four-byte characters (tag `big`), then N anonymous requests in parallel (20 by
default) of `{ a1: articles(first: 100, tag: "big") { nodes { body } } ... a20: ... }`.

    python3 scripts/response_rss.py --binary /work/baseline/conduit          # before
    python3 scripts/response_rss.py --binary $CARGO_TARGET_DIR/release/conduit
    python3 scripts/response_rss.py --binary ... --env QUERY_MAX_COMPLEXITY=1000000

It creates its own database on the local PostgreSQL (dropped at the end), starts the
binary on a free port (cost budget off, so the budget is not what refuses), seeds the
articles with SQL, fires the requests from threads, samples VmRSS every 5 ms and reads
VmHWM (the kernel's peak) at the end. Prints RSS idle and peak, and what each request
got (HTTP status, error code, response bytes). Python 3 standard library and `psql`.
"""

import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def psql(url, sql):
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def post(url, query, timeout=300):
    body = json.dumps({"query": query}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json",
                                                  "accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def outcome(status, raw):
    try:
        body = json.loads(raw)
    except ValueError:
        return (status, "not JSON")
    errors = body.get("errors") if isinstance(body, dict) else None
    code = errors[0].get("extensions", {}).get("code") if errors else "ok"
    return (status, code)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--aliases", type=int, default=20)
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    args = parser.parse_args()

    name = "rss_" + uuid.uuid4().hex[:10]
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url, "PORT": str(port),
           "DEMO_DATA": "false", "FRONTEND_BUILD": "false", "COST_BUDGET_PER_MINUTE": "0", "LOG_FORMAT": "json",
           "RUST_LOG": "warn", "AUTH_ATTEMPTS_PER_IP": "100000"}
    env.update(kv.split("=", 1) for kv in args.env)
    server = subprocess.Popen([args.binary], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}/graphql"
    try:
        for _ in range(600):
            try:
                if post(endpoint, "{ __typename }", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("the server did not start")
        status, raw = post(endpoint, 'mutation { register(input: {username: "writer", '
                           'email: "writer@example.com", password: "correct horse"}) '
                           '{ user { id } } }')
        assert status == 200 and b'"errors"' not in raw, raw
        psql(url, "INSERT INTO articles (author_id, slug, title, description, body, tags) "
             "SELECT (SELECT id FROM users LIMIT 1), 'big-' || g, 'Big ' || g, 'about', "
             "repeat(U&'\\+01F600', 100000), ARRAY['big'] "
             f"FROM generate_series(1, {args.articles}) g")
        idle = status_kb(server.pid, "VmRSS")
        query = "{ " + " ".join(
            f'a{i}: articles(first: 100, tag: "big") {{ nodes {{ body }} }}'
            for i in range(1, args.aliases + 1)) + " }"
        results = []
        peak = [idle]
        done = threading.Event()

        def sample():
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], status_kb(server.pid, "VmRSS"))
                except OSError:
                    return
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()

        def one():
            status, raw = post(endpoint, query)
            results.append((outcome(status, raw), len(raw)))

        threads = [threading.Thread(target=one) for _ in range(args.requests)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        hwm = status_kb(server.pid, "VmHWM")
        counts = collections.Counter((o, size) for o, size in results)
        print(f"binary: {args.binary}")
        print(f"extra env: {args.env or 'none'}")
        print(f"{args.articles} articles x 400,000-byte bodies; {args.requests} requests in "
              f"parallel, {args.aliases} aliases each of articles(first: 100, tag) {{ nodes {{ body }} }}")
        print(f"RSS idle (after seeding): {idle / 1024:.1f} MB")
        print(f"RSS peak sampled:         {peak[0] / 1024:.1f} MB")
        print(f"VmHWM (kernel peak):      {hwm / 1024:.1f} MB")
        print(f"wall time: {elapsed:.1f} s")
        for ((status, code), size), n in sorted(counts.items(), key=str):
            print(f"  {n} x HTTP {status} {code}, {size:,} response bytes")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        psql(ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
