#!/usr/bin/env python3
"""Drill: SIGTERM while Conduit serves HTTP load and open subscriptions.

    python3 scripts/faults/sigterm_under_load.py [--deadline-ms 5000] [--warmup 3]
        [--subscriptions 8] [--no-build]

Starts the `conduit` debug binary of this checkout on its own database on the shared
PostgreSQL (`conduit_fault_drill_<pid>`, dropped afterwards; server from
TEST_DATABASE_SERVER, default postgres://postgres@127.0.0.1:5432), with demo data and
SHUTDOWN_TIMEOUT_MS=--deadline-ms. It opens `--subscriptions` WebSockets
(graphql-transport-ws, each with a `commentAdded` subscription) and drives concurrent
HTTP load:

- readers on kept-alive connections and readers opening a new connection per request;
- a heavier reader (100 articles with their comments and authors);
- a writer adding comments (signed in), which the subscriptions receive;
- slow clients sending each request body in pieces over 1.5 s, so that some requests are
  always half-received.

Then it sends SIGTERM and keeps the load going until the process is gone. Each request
carries its own `x-request-id`; the server logs the id of every request it starts
processing and the client port of every connection it accepts
(`RUST_LOG=info,tower_http::trace::on_request=debug,axum::serve=trace`). So a request
that got no response is one of: refused (the listener was closed), reset while still in
the accept backlog (never accepted), closed unread (its connection was accepted, but the
server closed it at shutdown before reading any of the request: hyper closes idle HTTP/1
connections, such as a kept-alive one between requests), all fine and counted apart; or
cut off (the server had started it): a failure. The drill checks that:

- the process exits with status 0, within SHUTDOWN_TIMEOUT_MS (plus 1.5 s of slack for
  a debug build on a busy machine), without passing its deadline;
- every request the server started got a complete, parseable, successful GraphQL
  response; no response was truncated; nothing failed before the signal, and every
  request the server did not start was sent at (within 0.25 s) or after the signal;
- requests were in flight at the signal, and some of them were slow ones;
- every subscription had received events under load, and got close code 1001 (or a
  `complete`) before the process exited.

Prints a summary and PASS or FAIL; the exit status is 0 only on PASS.

What the cargo tests already prove (tests/api/server_process.rs, subscriptions.rs,
ws_protocol.rs): an idle server exits 0 on SIGTERM/SIGINT; one request half-sent at the
signal is completed; a request that never finishes does not hold shutdown past the
deadline; a subscribed socket is closed with 1001. This drill adds all of it at once,
under concurrent load, with the refused/cut-off accounting. Standard library only.
"""

import argparse
import atexit
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drill  # noqa: E402

SERVER = os.environ.get("TEST_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
READ = "{ articles(first: 20) { nodes { slug title author { username } } } }"
HEAVY = (
    "{ articles(first: 100) { totalCount nodes { slug title body tags favoritesCount "
    "author { username bio } comments(first: 20) { nodes { body author { username } } } } } }"
)
COMMENT = "mutation($s: String!, $b: String!) { addComment(articleSlug: $s, body: $b) { id } }"
SUBSCRIPTION = "subscription($s: String!) { commentAdded(articleSlug: $s) { body } }"


class Sent:
    __slots__ = ("client", "outcome", "result", "detail")

    def __init__(self, client, outcome, result, detail):
        self.client, self.outcome, self.result, self.detail = client, outcome, result, detail


def load_client(server, name, query, variables, token, keep_alive, dribble, stop, out, lock):
    client = drill.HttpClient(server.host, server.port, keep_alive=keep_alive, timeout=30)
    headers = drill.graphql_headers(token)
    n = 0
    while not stop.is_set():
        n += 1
        vars_ = variables(n) if callable(variables) else variables
        rid = f"drill-{name}-{n}-{uuid.uuid4().hex[:8]}"
        outcome = client.request(
            "POST", "/graphql", drill.graphql_body(query, vars_), headers, rid=rid,
            dribble=dribble,
        )
        result, detail = (
            drill.classify(outcome) if outcome.kind == "complete" else (outcome.kind, outcome.detail)
        )
        with lock:
            out.append(Sent(name, outcome, result, detail))
        if outcome.kind != "complete":
            time.sleep(0.05)
        else:
            time.sleep(0.01)
    client.close()


def psql(sql):
    return subprocess.run(
        ["psql", f"{SERVER}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline-ms", type=int, default=5000, help="SHUTDOWN_TIMEOUT_MS")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before SIGTERM")
    parser.add_argument("--subscriptions", type=int, default=8)
    parser.add_argument("--slack", type=float, default=1.5, help="seconds allowed past the deadline")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--server-log", help="write the server's JSON log lines to this file")
    args = parser.parse_args()

    exe = drill.binary(build=not args.no_build)
    database = f"conduit_fault_drill_{os.getpid()}"
    server = None

    def cleanup():
        if server is not None:
            server.kill()
        psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    atexit.register(cleanup)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))

    server = drill.Conduit(
        exe,
        {
            "DATABASE_URL": f"{SERVER}/{database}",
            "DEMO_DATA": "true",
            "SHUTDOWN_TIMEOUT_MS": str(args.deadline_ms),
            "RUST_LOG": "info,tower_http::trace::on_request=debug,axum::serve=trace",
        },
    )
    host, port = server.host, server.port
    drill.log(f"conduit pid {server.pid} on {server.addr}, database {database}, "
              f"SHUTDOWN_TIMEOUT_MS={args.deadline_ms}")

    token = drill.post_graphql(
        host, port,
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        {"i": {"username": "drill", "email": "drill@example.com", "password": "drill-password"}},
    )["data"]["register"]["accessToken"]
    slug = drill.post_graphql(host, port, READ)["data"]["articles"]["nodes"][0]["slug"]

    # Subscriptions first, all live before the load starts.
    events = queue.Queue()
    for i in range(args.subscriptions):
        threading.Thread(
            target=drill.subscriber,
            args=(host, port, SUBSCRIPTION, {"s": slug}, token if i % 2 else None, events, f"ws{i}"),
            daemon=True,
        ).start()
    ready = set()
    pending = []
    deadline = time.monotonic() + 15
    while len(ready) < args.subscriptions and time.monotonic() < deadline:
        for event in drill.drain(events, 0.2):
            (ready.add(event[1]) if event[0] == "ready" else pending.append(event))
    if len(ready) < args.subscriptions:
        sys.exit(f"only {len(ready)} subscriptions started: {pending}")
    time.sleep(0.5)  # the hub registers them

    sent, lock, stop = [], threading.Lock(), threading.Event()
    clients = []
    for i in range(3):
        clients.append((f"read-keepalive{i}", READ, {}, None, True, None))
    for i in range(2):
        clients.append((f"read-new-conn{i}", READ, {}, None, False, None))
    clients.append(("heavy", HEAVY, {}, None, True, None))
    clients.append((
        "writer", COMMENT, lambda n: {"s": slug, "b": f"comment {n} under load"}, token, True, None,
    ))
    for i in range(3):
        clients.append((f"slow{i}", READ, {}, None, False, (30, 1.5)))
    threads = []
    for name, query, variables, tok, keep_alive, dribble in clients:
        threads.append(threading.Thread(
            target=load_client,
            args=(server, name, query, variables, tok, keep_alive, dribble, stop, sent, lock),
            daemon=True,
        ))
    for i, thread in enumerate(threads):
        thread.start()
        if clients[i][0].startswith("slow"):
            time.sleep(0.5)  # staggered: some slow request is always half-sent
    time.sleep(args.warmup)

    before_signal = Counter(e[0] for e in pending + drill.drain(events))
    t_signal = time.monotonic()
    server.signal(signal.SIGTERM)
    status = server.wait(args.deadline_ms / 1000 + 30)
    t_exit = time.monotonic()
    took = t_exit - t_signal
    time.sleep(0.3)  # let clients see the closed listener
    stop.set()
    for thread in threads:
        thread.join(35)
    if status is None:
        server.kill()

    ends = {}
    completes = set()
    for event in drill.drain(events, 2):
        if event[0] == "end":
            ends[event[1]] = event
        elif event[0] == "complete":
            completes.add(event[1])
    server.logs_complete()
    seen_ids = server.request_ids_seen()
    accepted = server.accepted_ports()

    # ---- report -------------------------------------------------------------------------
    failures = []

    def check(ok, what, examples=()):
        drill.log(f"  [{'ok' if ok else 'FAIL'}] {what}")
        if not ok:
            failures.append(what)
            for s in list(examples)[:6]:
                o = s.outcome
                drill.log(
                    f"         {s.client} {o.rid} {o.started - t_signal:+.2f}s..{o.ended - t_signal:+.2f}s "
                    f"{o.kind} {s.result}: {s.detail}"
                )

    rows = Counter()
    category = {}
    completed, refused, unread, cut, failed_early = [], [], [], [], []
    never_accepted = []
    in_flight = [s for s in sent if s.outcome.started < t_signal < s.outcome.ended]
    for s in sent:
        o = s.outcome
        if o.kind == "complete":
            completed.append(s)
            category[id(s)] = "complete " + s.result
        elif o.kind == "refused":
            refused.append(s)
            category[id(s)] = "refused"
        elif o.kind == "truncated" or o.rid in seen_ids:
            cut.append(s)
            category[id(s)] = "CUT OFF"
        elif o.local in accepted:
            unread.append(s)
            category[id(s)] = "closed unread"
        else:
            never_accepted.append(s)
            category[id(s)] = "reset, never accepted"
        rows[(s.client.rstrip("0123456789"), category[id(s)])] += 1
        if o.kind != "complete" and o.ended < t_signal:
            failed_early.append(s)

    drill.log("")
    drill.log(f"SIGTERM sent; the process exited {took:.2f}s later with status {status}")
    drill.log(f"{len(sent)} HTTP requests; {len(in_flight)} in flight at the signal "
              f"({sum(1 for s in in_flight if s.client.startswith('slow'))} of them slow)")
    drill.log(
        "outcomes: complete; refused (listener closed); reset, never accepted (in the\n"
        "accept backlog when the listener closed); closed unread (an accepted connection\n"
        "the server closed at shutdown before reading any of the request: hyper closes\n"
        "idle HTTP/1 connections); CUT OFF (the server had started the request: FAIL)"
    )
    drill.log(f"{'client':<16} {'outcome':<24} {'count':>6}")
    for (client, outcome), n in sorted(rows.items()):
        drill.log(f"{client:<16} {outcome:<24} {n:>6}")
    drill.log("in flight at the signal: " + ", ".join(
        f"{n}x {k}" for k, n in Counter(
            f"{s.client.rstrip('0123456789')} {category[id(s)]}" for s in in_flight
        ).items()
    ))
    drill.log(f"subscriptions: {args.subscriptions} open, events received before the "
              f"signal: {before_signal.get('next', 0)}; endings: " + ", ".join(
                  f"{n}x {k}" for k, n in Counter(
                      f"{e[2]} {e[3]}".strip() for e in ends.values()
                  ).items()
              ))
    if args.server_log:
        with open(args.server_log, "w") as f, server.lock:
            for entry in server.logs:
                f.write(json.dumps(entry) + "\n")
    drill.log("")

    not_ok = [s for s in completed if s.result != "ok"]
    check(status == 0, f"exit status 0 (got {status})")
    check(
        took <= args.deadline_ms / 1000 + args.slack,
        f"exited within SHUTDOWN_TIMEOUT_MS + {args.slack:g}s ({took:.2f}s <= "
        f"{args.deadline_ms / 1000 + args.slack:.2f}s)",
    )
    check(not server.log_entries("shutdown deadline passed"), "finished before its deadline")
    check(bool(server.log_entries('"stopped"')), "logged \"stopped\"")
    unseen = [
        s for s in completed if s.outcome.rid not in seen_ids or s.outcome.local not in accepted
    ]
    check(
        not unseen,
        "the server's log names every request it answered and its connection (the "
        "checks below can see)",
        unseen,
    )
    check(not cut, "no request the server started was cut off, no response truncated", cut)
    check(not not_ok, "every completed response is a successful GraphQL response", not_ok)
    check(not failed_early, "nothing refused or closed before the signal", failed_early)
    not_started = refused + never_accepted + unread
    earliest = min((s.outcome.started - t_signal for s in not_started), default=0)
    check(
        earliest > -0.25,
        f"requests the server did not start were all sent at or after the signal "
        f"(earliest {earliest:+.3f}s)",
        [s for s in not_started if s.outcome.started <= t_signal - 0.25],
    )
    in_flight_done = [s for s in in_flight if s.outcome.kind == "complete" and s.result == "ok"]
    check(
        len(in_flight_done) >= 3 and any(s.client.startswith("slow") for s in in_flight_done),
        f"requests in flight at the signal, slow ones included, were completed "
        f"({len(in_flight_done)} of {len(in_flight)})",
        [s for s in in_flight if s not in in_flight_done],
    )
    check(
        before_signal.get("next", 0) >= args.subscriptions,
        "the subscriptions received events under load",
    )
    closed_ok = [
        name for name, e in ends.items()
        if (e[2] == "close" and e[3].startswith("1001")) or name in completes
    ]
    check(
        len(closed_ok) == args.subscriptions,
        f"every subscription got close 1001 or complete ({len(closed_ok)}/{args.subscriptions})",
    )
    check(
        all(e[4] <= t_exit + 0.05 for e in ends.values()),
        "every socket was closed before the process exited",
    )
    drill.log("")
    drill.log("PASS" if not failures else f"FAIL ({len(failures)} checks failed)")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
