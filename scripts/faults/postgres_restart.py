#!/usr/bin/env python3
"""Drill: PostgreSQL restarts while Conduit is under load.

    python3 scripts/faults/postgres_restart.py [--mode stop-start|restart]
        [--stop-mode fast|immediate] [--down 3] [--clients 3] [--recovery 2] [--no-build]

Creates a throwaway PostgreSQL cluster (initdb into a temporary directory, a free port,
run as the `postgres` user when started as root), starts the `conduit` debug binary of
this checkout against it (demo data on), and drives steady load: clients reading
`articles` (a database-backed query), one signed-in client reading `viewer`, one asking
`{ __typename }` (no database), a `/readyz` poller, and one open `commentAdded`
subscription. Then it stops PostgreSQL (`pg_ctl stop -m fast`), waits `--down` seconds and
starts it again (or `pg_ctl restart -m fast` with `--mode restart`; `--stop-mode
immediate` stops it as a crash would, so it recovers at start), keeps the load going,
and checks:

- every response is complete GraphQL JSON; every error carries `extensions.code`, and
  the code is SERVICE_UNAVAILABLE; no connection is ever refused, reset or cut off;
- errors happen only in the outage: none before PostgreSQL stops, none for requests
  started more than `--recovery` seconds after it is back;
- `{ __typename }` never fails; the outage was real (database requests did fail);
- `/readyz` answers 503 during the outage and 200 before and after;
- the same Conduit process (same pid) served throughout: it never exited;
- its event listener reconnects, and the subscription opened before the outage receives
  a comment added after it.

Prints a per-second timeline and PASS or FAIL; the exit status is 0 only on PASS. The
cluster and the server are removed on exit, whatever happens. Standard library only.
"""

import argparse
import atexit
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drill  # noqa: E402

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
ARTICLES = "{ articles(first: 5) { nodes { slug } } }"
VIEWER = "{ viewer { username } }"
TYPENAME = "{ __typename }"


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory."""

    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="conduit-pg-drill-")
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.as_root = os.geteuid() == 0
        self.started = False

    def init(self):
        if self.as_root:
            # PostgreSQL refuses to run as root.
            shutil.chown(self.dir, "postgres", "postgres")
        self.run(
            "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync", "--no-instructions",
        )

    def run(self, tool, *args, check=True):
        cmd = [os.path.join(PG_BIN, tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}")
        return result

    def options(self):
        return (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )

    def start(self):
        self.run("pg_ctl", "-D", self.data, "-l", self.logfile, "-o", self.options(), "-w", "start")
        self.started = True

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")
        self.started = False

    def restart(self, mode="fast"):
        self.run(
            "pg_ctl", "-D", self.data, "-l", self.logfile, "-o", self.options(),
            "-m", mode, "-w", "restart",
        )

    def remove(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Record:
    __slots__ = ("kind", "started", "ended", "result", "detail")

    def __init__(self, kind, started, ended, result, detail):
        self.kind, self.started, self.ended = kind, started, ended
        self.result, self.detail = result, detail


def load_client(server, kind, query, token, stop, records, lock):
    client = drill.HttpClient(server.host, server.port, keep_alive=True, timeout=30)
    body = drill.graphql_body(query)
    headers = drill.graphql_headers(token)
    while not stop.is_set():
        outcome = client.request("POST", "/graphql", body, headers)
        if outcome.kind == "complete":
            result, detail = drill.classify(outcome)
            if result == "error":
                detail = detail or "(no code)"
        else:
            result, detail = "transport", f"{outcome.kind}: {outcome.detail}"
        with lock:
            records.append(Record(kind, outcome.started, outcome.ended, result, detail))
        time.sleep(0.02)
    client.close()


def readyz_poller(server, stop, records, lock):
    client = drill.HttpClient(server.host, server.port, keep_alive=True, timeout=30)
    while not stop.is_set():
        outcome = client.request("GET", "/readyz")
        if outcome.kind == "complete":
            result, detail = ("ok" if outcome.status == 200 else "unready"), str(outcome.status)
        else:
            result, detail = "transport", f"{outcome.kind}: {outcome.detail}"
        with lock:
            records.append(Record("readyz", outcome.started, outcome.ended, result, detail))
        time.sleep(0.2)
    client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["stop-start", "restart"], default="stop-start")
    parser.add_argument(
        "--stop-mode", choices=["fast", "immediate"], default="fast",
        help="pg_ctl shutdown mode (immediate: like a crash, with recovery at start)",
    )
    parser.add_argument("--down", type=float, default=3.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--clients", type=int, default=3, help="concurrent `articles` clients")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--after", type=float, default=8.0, help="seconds of load after restart")
    parser.add_argument(
        "--recovery", type=float, default=2.0,
        help="requests started this long after PostgreSQL is back must all succeed",
    )
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--server-log", help="write the server's JSON log lines to this file")
    args = parser.parse_args()

    exe = drill.binary(build=not args.no_build)
    server = None
    cluster = None

    def cleanup():
        if server is not None:
            server.kill()
        if cluster is not None:
            cluster.remove()

    atexit.register(cleanup)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))

    cluster = Cluster(drill.free_port())
    cluster.init()
    cluster.start()
    drill.log(f"PostgreSQL {cluster.port} in {cluster.dir}")
    server = drill.Conduit(
        exe,
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{cluster.port}/conduit_drill",
            "DEMO_DATA": "true",
            "RUST_LOG": "info",
        },
    )
    pid = server.pid
    drill.log(f"conduit pid {pid} on {server.addr}")

    host, port = server.host, server.port
    registered = drill.post_graphql(
        host, port,
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        {"i": {"username": "drill", "email": "drill@example.com", "password": "drill-password"}},
    )
    token = registered["data"]["register"]["accessToken"]
    slug = drill.post_graphql(host, port, ARTICLES)["data"]["articles"]["nodes"][0]["slug"]
    comment = "mutation($s: String!, $b: String!) { addComment(articleSlug: $s, body: $b) { id } }"
    events = queue.Queue()
    threading.Thread(
        target=drill.subscriber,
        args=(host, port, "subscription($s: String!) { commentAdded(articleSlug: $s) { body } }",
              {"s": slug}, None, events, "sub"),
        daemon=True,
    ).start()
    first = events.get(timeout=10)
    if first[0] != "ready":
        sys.exit(f"subscription did not start: {first}")
    time.sleep(0.3)  # the hub registers the subscription
    drill.post_graphql(host, port, comment, {"s": slug, "b": "before the outage"}, token)
    before = drill.drain(events, 5)
    if ("next", "sub") not in before:
        sys.exit(f"subscription got nothing before the outage: {before}")

    records, lock, stop = [], threading.Lock(), threading.Event()
    clients = [("articles", ARTICLES, None)] * args.clients
    clients += [("viewer", VIEWER, token), ("typename", TYPENAME, None)]
    threads = [
        threading.Thread(
            target=load_client, args=(server, k, q, t, stop, records, lock), daemon=True
        )
        for k, q, t in clients
    ]
    threads.append(
        threading.Thread(target=readyz_poller, args=(server, stop, records, lock), daemon=True)
    )
    t0 = time.monotonic()
    for thread in threads:
        thread.start()

    marks = {}
    time.sleep(args.warmup)
    marks["stop"] = time.monotonic()
    if args.mode == "restart":
        cluster.restart(args.stop_mode)
        marks["stopped"] = marks["start"] = marks["stop"]
    else:
        cluster.stop(args.stop_mode)
        marks["stopped"] = time.monotonic()
        time.sleep(args.down)
        marks["start"] = time.monotonic()
        cluster.start()
    marks["ready"] = time.monotonic()
    time.sleep(args.after)
    stop.set()
    for thread in threads:
        thread.join()
    t_end = time.monotonic()

    # The subscription, open since before the outage, hears a comment added after the
    # event listener has reconnected (events in between are the documented gap).
    reconnected = None
    while time.monotonic() - marks["ready"] < 15:
        found = server.log_entries("event listener reconnected")
        if found:
            reconnected = found[0]["_t"]
            break
        time.sleep(0.1)
    heard_after = False
    sub_end = None
    if reconnected is not None:
        drill.post_graphql(host, port, comment, {"s": slug, "b": "after the outage"}, token)
        for event in drill.drain(events, 5):
            if event == ("next", "sub"):
                heard_after = True
            elif event[0] == "end":
                sub_end = event
    else:
        sub_end = next((e for e in drill.drain(events) if e[0] == "end"), None)

    # ---- report -------------------------------------------------------------------------
    def rel(t):
        return t - t0

    seconds = int((t_end - t0) // 1) + 1
    per = defaultdict(Counter)
    codes = defaultdict(Counter)
    for r in records:
        s = int(rel(r.ended))
        per[s][(r.kind, r.result)] += 1
        if r.result not in ("ok",):
            codes[s][r.detail] += 1

    def phase(s):
        a, b = t0 + s, t0 + s + 1
        notes = [name for name, t in marks.items() if a <= t < b and name != "stopped"]
        if marks["stop"] <= a and b <= marks["ready"]:
            state = "DOWN"
        elif a < marks["stop"]:
            state = "up" if b <= marks["stop"] else "UP>DOWN"
        else:
            state = "up" if a >= marks["ready"] else "DOWN>UP"
        return state + (" (" + ",".join(notes) + ")" if notes else "")

    drill.log("")
    drill.log(
        f"PostgreSQL stopped at +{rel(marks['stop']):.2f}s, back (ready) at "
        f"+{rel(marks['ready']):.2f}s: outage {marks['ready'] - marks['stop']:.2f}s "
        f"({args.mode}, -m {args.stop_mode})"
    )
    header = f"{'sec':>4}  {'postgres':<18} {'articles ok/err':>15} {'viewer ok/err':>13} " \
             f"{'typename ok/err':>15} {'readyz':>13}  errors"
    drill.log(header)
    drill.log("-" * len(header))
    for s in range(seconds):
        c = per[s]

        def pair(kind):
            ok = c[(kind, "ok")]
            bad = sum(v for (k, res), v in c.items() if k == kind and res != "ok")
            return f"{ok}/{bad}"

        ready = " ".join(
            f"{n}x{code}" for code, n in
            ((200, c[("readyz", "ok")]), (503, c[("readyz", "unready")])) if n
        )
        errs = ", ".join(f"{n}x {d}" for d, n in codes[s].items() if not d.isdigit())
        drill.log(
            f"{s:>4}  {phase(s):<18} {pair('articles'):>15} {pair('viewer'):>13} "
            f"{pair('typename'):>15} {ready:>13}  {errs}".rstrip()
        )
    drill.log("")

    failures = []
    graphql = [r for r in records if r.kind != "readyz"]
    errors = [r for r in graphql if r.result != "ok"]
    transport = [r for r in records if r.result == "transport"]
    bad = [r for r in graphql if r.result == "bad"]
    uncoded = [r for r in graphql if r.result == "error" and r.detail == "(no code)"]
    wrong_code = [
        r for r in graphql
        if r.result == "error" and r.detail not in ("SERVICE_UNAVAILABLE", "(no code)")
    ]
    early = [r for r in errors if r.ended < marks["stop"]]
    late = [r for r in errors if r.started > marks["ready"] + args.recovery]
    typename_errors = [r for r in graphql if r.kind == "typename" and r.result != "ok"]
    db_errors = [r for r in errors if r.kind in ("articles", "viewer")]
    last_error = max((r.ended for r in errors), default=None)
    ready_before = [r for r in records if r.kind == "readyz" and r.ended < marks["stop"]]
    ready_during = [
        r for r in records
        if r.kind == "readyz" and r.started >= marks["stopped"] and r.ended <= marks["start"]
    ]
    ready_after = [
        r for r in records if r.kind == "readyz" and r.started > marks["ready"] + args.recovery
    ]
    ok_after = [
        r for r in graphql
        if r.kind == "articles" and r.result == "ok" and r.started > marks["ready"]
    ]

    def check(ok, what, examples=()):
        drill.log(f"  [{'ok' if ok else 'FAIL'}] {what}")
        if not ok:
            failures.append(what)
            for r in list(examples)[:5]:
                drill.log(f"         {r.kind} +{rel(r.started):.2f}s..+{rel(r.ended):.2f}s {r.result}: {r.detail}")

    drill.log(
        f"{len(graphql)} GraphQL requests, {len(errors)} errors "
        f"({', '.join(f'{n}x {d}' for d, n in Counter(r.detail for r in errors).items()) or 'none'}); "
        f"{sum(1 for r in records if r.kind == 'readyz')} readiness probes"
    )
    if last_error is not None:
        drill.log(
            f"last error ended {last_error - marks['ready']:+.2f}s from PostgreSQL being ready"
        )
    check(not transport, "no connection refused, reset or cut off", transport)
    check(not bad, "every response is GraphQL JSON", bad)
    check(not uncoded, "every error has extensions.code", uncoded)
    check(not wrong_code, "every error is SERVICE_UNAVAILABLE", wrong_code)
    check(not early, "no error before PostgreSQL stopped", early)
    check(
        not late,
        f"every request started {args.recovery:g}s after PostgreSQL was back succeeded",
        late,
    )
    check(not typename_errors, "{ __typename } (no database) never failed", typename_errors)
    check(bool(db_errors), "the outage was seen: database requests failed while it lasted")
    check(len(ok_after) >= 10, f"database requests succeed after the restart ({len(ok_after)})")
    check(
        bool(ready_before) and all(r.result == "ok" for r in ready_before),
        "/readyz was 200 before the outage",
    )
    if marks["start"] - marks["stopped"] >= 1:
        check(
            any(r.result == "unready" for r in ready_during),
            "/readyz answered 503 during the outage",
        )
    check(
        bool(ready_after) and all(r.result == "ok" for r in ready_after),
        "/readyz was 200 again after the outage",
    )
    check(server.alive() and server.pid == pid, f"the same Conduit process (pid {pid}) is still serving")
    check(
        reconnected is not None,
        "the event listener reconnected"
        + (f" (+{reconnected - marks['ready']:.2f}s after ready)" if reconnected else ""),
    )
    check(
        heard_after and sub_end is None,
        "the subscription opened before the outage got a comment added after it"
        + (f" (it ended: {sub_end[2]} {sub_end[3]})" if sub_end else ""),
    )
    if args.server_log:
        with open(args.server_log, "w") as f, server.lock:
            for entry in server.logs:
                f.write(json.dumps(entry) + "\n")
    drill.log("")
    drill.log("PASS" if not failures else f"FAIL ({len(failures)} checks failed)")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
