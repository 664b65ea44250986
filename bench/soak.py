#!/usr/bin/env python3
"""Soak: W2 + W5 mixed at half of Conduit's measured maximum, open loop, for 10 minutes.

    python3 bench/soak.py [--minutes 10] [--rate R] [--database NAME] [--conduit BINARY]
                          [--small] [--reuse] [--keep-db] [--vacuum]

It seeds a database with the benchmark's data (`conduit seed`, the sizes of bench/run.py;
`--small` for its smoke set) unless `--reuse` finds it already there, starts Conduit (release
build, bench/run.py's settings: cost budget and sign-in throttle off, `sslmode=disable`) on
port 18201, and sends a mix of 4 reads to 1 write, in turn: W2 anonymous, W2 signed in,
W2 anonymous, W2 signed in, then W5 (`favoriteArticle`, and in the next group
`unfavoriteArticle`, on each of 50 articles in turn), signed in as the first seeded user.

1. The maximum: closed-loop wrk at 16 connections over the mix, after a warm-up (skipped
   with `--rate`).
2. The soak: wrk runs open loop (bench/wrk/soak.lua paces each request to a fixed schedule)
   at half that maximum, one wrk run per sample (60 s each), back to back. Each sample
   gives its requests, errors (a status other than 200, a body with `errors`, or a socket
   error), p50/p99 and how many requests went out behind schedule; Conduit's RSS is read
   from /proc every second; CPU per request of Conduit and of its PostgreSQL backends, and
   the share of the machine's CPU everything else took (the machine is shared: a slow
   minute with others busy is noise, one with more CPU per request is not); the load
   average and the dead rows in the written tables at each sample's end (with autovacuum
   off, as on this machine, they pile up: `--vacuum` runs VACUUM during each sample).
3. The verdict, PASS or FAIL with its reasons: no errors; the schedule held (under 1% of
   requests sent late: otherwise the server stalled and latency figures understate it) and
   the rate reached (the median sample's at least 95% of it); p99 stable (the last sample's within `--p99-ratio`, 1.5×, of the first's); RSS growth
   under `--rss-growth` (10%) after the first sample (the last sample's final RSS against
   the first's, and the highest RSS after the first sample against the highest during it).
   Exit status 0 only on PASS.

The database is dropped at the end unless `--keep-db` (so `--keep-db` then `--reuse
--keep-db` soaks the same data again without seeding). Standard library only; needs wrk
(Debian package) and PostgreSQL on 127.0.0.1:5432.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # importing run.py leaves no bench/__pycache__ behind
import run  # noqa: E402  (bench/run.py: seed sizes, server handling, GraphQL helpers)

BENCH = run.BENCH
PORT = 18201
URL = f"http://127.0.0.1:{PORT}/graphql"
THREADS = 2
MAX_CONNECTIONS = 16
# Open loop needs free connections at every send time: 64 is four times the closed-loop
# concurrency whose rate is halved, so the schedule holds unless the server stalls.
SOAK_CONNECTIONS = 64
LATE_MS = 10
LATE_SHARE = 0.01
TOGGLED_ARTICLES = 50
# The tables a favorite or unfavorite writes (the favorite, the article's counter, the
# author's notification).
WRITTEN_TABLES = "'articles', 'favorites', 'notifications'"


def wrk(entries, seconds, connections, rate=None):
    """One wrk run of bench/wrk/soak.lua over `entries` ((token or None, body) pairs);
    open loop at `rate` requests per second when given. Returns its figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        for token, body in entries:
            f.write(f"{token or '-'}\t{body}\n")
        path = f.name
    env = dict(os.environ, SOAK_BODIES=path, SOAK_THREADS=str(THREADS), SOAK_LATE_MS=str(LATE_MS),
               SOAK_RATE=str(rate or 0))
    try:
        out = subprocess.run(
            ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
             "-s", os.path.join(BENCH, "wrk", "soak.lua"), f"http://127.0.0.1:{PORT}"],
            env=env, capture_output=True, text=True,
        )
    finally:
        os.unlink(path)
    figures = None
    for line in out.stdout.splitlines():
        if line.startswith("JSON "):
            figures = json.loads(line[5:])
        elif line.startswith("SAMPLE "):
            figures["sample"] = line[7:]
    if figures is None:
        sys.exit(f"wrk failed: {out.stdout}\n{out.stderr}")
    figures["errors"] = figures["bad"] + figures["socket_errors"]
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def mix(token, slugs):
    """The soak's requests, in order, in groups of five: W2 anonymous, W2 signed in, twice,
    then a write: favorite one of `slugs`, in the next group unfavorite it, then the next
    slug. 4 reads to 1 write."""
    home = json.dumps({"query": run.read_workload("conduit", "W2"), "variables": {"first": 20}})
    favorite, unfavorite = (run.read_workload("conduit", name) for name in ("W5a", "W5b"))
    entries = []
    for slug in slugs:
        for mutation in (favorite, unfavorite):
            entries += [(None, home), (token, home)] * 2
            entries.append((token, json.dumps({"query": mutation, "variables": {"slug": slug}})))
    return entries


def check(entries):
    """Each distinct request of the mix answers without errors once."""
    for token, body in dict.fromkeys(entries):
        body = json.loads(body)
        run.ok(URL, body["query"], body["variables"], token)


def load_average():
    """The machine's load average over the last minute."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def machine_busy_seconds():
    """CPU time the whole machine spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def backends(database):
    """CPU seconds of each PostgreSQL backend connected to `database`, by pid."""
    pids = run.psql(database, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                              "AND pid <> pg_backend_pid()").split()
    return {pid: run.cpu_seconds([int(pid)]) for pid in pids}


def dead_rows(database):
    """Dead row versions in the tables the writes change (what vacuum would reclaim), as
    PostgreSQL's statistics estimate them."""
    return int(run.psql(database, "SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables "
                                  f"WHERE relname IN ({WRITTEN_TABLES})"))


def sample(pid, database, entries, seconds, rate):
    """One open-loop sample: wrk's figures; Conduit's RSS at the end and its highest during
    the sample; CPU per request of Conduit and of its PostgreSQL backends, and the share of
    the machine's CPU everything else took; the load average and dead rows at the end."""
    rss = [run.rss_mb([pid])]
    stop = threading.Event()

    def watch():
        while not stop.wait(1):
            rss.append(run.rss_mb([pid]))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    pg_before, conduit_before = backends(database), run.cpu_seconds([pid])
    busy_before, wrk_before = machine_busy_seconds(), os.times()
    started = time.monotonic()
    try:
        figures = wrk(entries, seconds, SOAK_CONNECTIONS, rate)
    finally:
        stop.set()
        watcher.join()
    elapsed = time.monotonic() - started
    wrk_after = os.times()
    wrk_cpu = (wrk_after.children_user + wrk_after.children_system
               - wrk_before.children_user - wrk_before.children_system)
    conduit = run.cpu_seconds([pid]) - conduit_before
    pg = sum(cpu - pg_before.get(p, 0) for p, cpu in backends(database).items())
    others = machine_busy_seconds() - busy_before - conduit - pg - wrk_cpu
    per_request = 1e6 / max(figures["requests"], 1)
    rss.append(run.rss_mb([pid]))
    figures.update(rss_end=rss[-1], rss_max=max(rss), load=load_average(),
                   conduit_us=conduit * per_request, pg_us=pg * per_request,
                   others=max(others, 0) / (elapsed * os.cpu_count()), dead=dead_rows(database))
    return figures


def verdict(samples, rate, p99_ratio, rss_growth):
    """The reasons the soak fails (none: it passes), and a line of the figures judged."""
    reasons = []
    errors = sum(s["errors"] for s in samples)
    if errors:
        first = next((s["sample"] for s in samples if "sample" in s), "socket errors only")
        reasons.append(f"{errors} errors (e.g. {first[:200]})")
    sent = sum(s["requests"] for s in samples)
    late = sum(s["late"] for s in samples)
    if late > LATE_SHARE * sent:
        worst = max(s["max_late_us"] for s in samples) / 1000
        reasons.append(f"schedule not held: {late} of {sent} requests sent over {LATE_MS} ms late "
                       f"(worst {worst:.0f} ms): the server stalled or the client was starved")
    achieved = statistics.median(s["rps"] for s in samples)
    if achieved < 0.95 * rate:
        reasons.append(f"rate not reached: median {achieved:.0f} req/s against {rate:.0f}")
    first, last = samples[0]["p99_us"], samples[-1]["p99_us"]
    if last > p99_ratio * first:
        reasons.append(f"p99 not stable: last sample {last / 1000:.1f} ms > {p99_ratio}× the "
                       f"first's {first / 1000:.1f} ms")
    # Growth after the first sample, like for like: the last sample's end against the
    # first's, and the highest after the first sample against the highest during it.
    first_rss, later = samples[0], samples[1:]
    growth = max(samples[-1]["rss_end"] / first_rss["rss_end"],
                 max(s["rss_max"] for s in later) / first_rss["rss_max"]) - 1
    rss = (f"end {first_rss['rss_end']:.1f} → {samples[-1]['rss_end']:.1f} MB, highest "
           f"{first_rss['rss_max']:.1f} → {max(s['rss_max'] for s in later):.1f} MB")
    if growth > rss_growth:
        reasons.append(f"RSS grew {100 * growth:.1f}% after the first sample ({rss}), limit "
                       f"{100 * rss_growth:.0f}%")
    # Not judged, but telling a step (a high-water mark, e.g. after a stall put many requests
    # in flight at once) from a leak: the change over the second half of the soak.
    half = samples[len(samples) // 2 - 1]["rss_end"]
    rss += f"; over the second half {100 * (samples[-1]['rss_end'] / half - 1):+.1f}%"
    figures = (f"{errors} errors; {late} of {sent} requests late; median {achieved:.0f} req/s "
               f"(target {rate:.0f}); p99 last/first {last / max(first, 1):.2f}× (limit "
               f"{p99_ratio}×); RSS growth after the first sample {100 * growth:.1f}% ({rss}, "
               f"limit {100 * rss_growth:.0f}%)")
    return reasons, figures


def table(samples, seconds):
    out = ["| sample | end s | requests | req/s | errors | late | p50 ms | p99 ms | max ms "
           "| RSS MB end / max | CPU µs/req Conduit / PG | others' CPU | load | dead rows |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, s in enumerate(samples, 1):
        out.append(f"| {i} | {i * seconds} | {s['requests']} | {s['rps']:.0f} | {s['errors']} "
                   f"| {s['late']} | {s['p50_us'] / 1000:.2f} | {s['p99_us'] / 1000:.2f} "
                   f"| {s['max_us'] / 1000:.1f} | {s['rss_end']:.1f} / {s['rss_max']:.1f} "
                   f"| {s['conduit_us']:.0f} / {s['pg_us']:.0f} | {100 * s['others']:.0f}% "
                   f"| {s['load']:.2f} | {s['dead']:,} |")
    return "\n".join(out)


def database_exists(database):
    return run.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{database}'") == "1"


def drop(database):
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force",
                    database], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="length of the soak (10)")
    parser.add_argument("--sample-seconds", type=int, default=60,
                        help="length of one sample (60; shorter only for a quick try)")
    parser.add_argument("--rate", type=float,
                        help="requests per second to soak at (default: half the measured maximum)")
    parser.add_argument("--database", help="database name (conduit_soak; conduit_soak_small "
                                           "with --small)")
    parser.add_argument("--conduit", metavar="BINARY",
                        help="Conduit binary to run (default: cargo build --release)")
    parser.add_argument("--small", action="store_true", help="seed bench/run.py's smoke data set")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database's data when it exists (no seeding)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--p99-ratio", type=float, default=1.5,
                        help="most the last sample's p99 may be, times the first's (1.5)")
    parser.add_argument("--rss-growth", type=float, default=0.10,
                        help="most RSS may grow after the first sample, as a fraction (0.10)")
    parser.add_argument("--vacuum", action="store_true",
                        help="VACUUM the written tables during each sample, a stand-in for "
                             "autovacuum where the server has it off")
    parser.add_argument("--warmup", type=int, default=10,
                        help="seconds of load before measuring (10)")
    args = parser.parse_args()
    count = round(args.minutes * 60 / args.sample_seconds)
    if count < 2:
        sys.exit("the soak needs at least 2 samples (--minutes against --sample-seconds)")
    seed = (run.SMOKE if args.small else run.FULL)["seed"]
    database = args.database or ("conduit_soak_small" if args.small else "conduit_soak")
    for tool in ("wrk", "psql", "dropdb"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (wrk: apt-get install wrk)")

    conduit = args.conduit and os.path.abspath(args.conduit)
    if not conduit:
        run.log("== build: cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], cwd=run.REPO,
                       check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(run.REPO, "target"))
        conduit = os.path.join(target, "release", "conduit")

    server = None
    try:
        if args.reuse and database_exists(database):
            run.log(f"== reuse {database}")
            data = "reused as found"
        else:
            data = ", ".join(f"{v:,} {k}" for k, v in seed.items())
            run.log(f"== seed {database}: {data}")
            drop(database)
            started = time.time()
            subprocess.run([conduit, "seed"] + [f"--{k}={v}" for k, v in seed.items()],
                           env=dict(os.environ, DATABASE_URL=f"{run.PG}/{database}",
                                    RUST_LOG="warn"),
                           check=True, stdout=subprocess.DEVNULL)
            run.log(f"   seeded in {time.time() - started:.0f} s")

        server = run.Server("soak", [conduit], {
            "DATABASE_URL": f"{run.PG}/{database}?sslmode=disable", "PORT": str(PORT),
            "DEMO_DATA": "false", "FRONTEND_BUILD": "false", "GRAPHIQL_ENABLED": "false",
            "INTROSPECTION_ENABLED": "false", "REPORT_SQL_STATEMENTS": "true",
            "COST_BUDGET_PER_MINUTE": "0", "AUTH_ATTEMPTS_PER_ACCOUNT": "1000000",
            "AUTH_ATTEMPTS_PER_IP": "1000000", "RUST_LOG": "warn", "LOG_FORMAT": "json",
        })
        run.wait_http(URL, server.proc, "conduit")
        email = run.psql(database, "SELECT email FROM users ORDER BY id LIMIT 1")
        slugs = run.psql(database, "SELECT slug FROM articles ORDER BY id DESC "
                                   f"LIMIT {TOGGLED_ARTICLES}").splitlines()
        entries = mix(run.login(URL, email), slugs)
        check(entries)
        run.log(f"   Conduit on port {PORT} (log {server.log.name}); mix: 4 reads (W2 anonymous "
                f"and signed in) to 1 write (W5 over {len(slugs)} articles)")

        rate = args.rate
        if rate is None:
            wrk(entries, args.warmup, MAX_CONNECTIONS)
            top = wrk(entries, 10, MAX_CONNECTIONS)
            if top["errors"]:
                sys.exit(f"the maximum run had {top['errors']} errors: {top.get('sample')}")
            rate = top["rps"] / 2
            run.log(f"== maximum (closed loop, c={MAX_CONNECTIONS}, 10 s): {top['rps']:.0f} req/s, "
                    f"p99 {top['p99_us'] / 1000:.1f} ms; soak at half: {rate:.0f} req/s")
        else:
            wrk(entries, args.warmup, SOAK_CONNECTIONS, rate)
        run.log(f"== soak: {count} × {args.sample_seconds} s at {rate:.0f} req/s, open loop over "
                f"{SOAK_CONNECTIONS} connections")
        if run.psql(database, "SHOW autovacuum") != "on":
            run.log("   autovacuum is off on this server: the rows the writes replace stay "
                    "dead (the table's last column)" + ("; --vacuum stands in for it"
                                                        if args.vacuum else ""))
        samples = []
        for i in range(count):
            vacuum = args.vacuum and subprocess.Popen(
                ["psql", f"{run.PG}/{database}", "-qAtX", "-c",
                 f"VACUUM {WRITTEN_TABLES.replace(chr(39), '')}"], stdout=subprocess.DEVNULL)
            s = sample(server.proc.pid, database, entries, args.sample_seconds, rate)
            if vacuum and vacuum.wait() != 0:
                sys.exit("VACUUM failed")
            samples.append(s)
            run.log(f"   {i + 1}/{count}: {s['requests']} requests, {s['errors']} errors, "
                    f"{s['late']} late, p50 {s['p50_us'] / 1000:.2f} ms, "
                    f"p99 {s['p99_us'] / 1000:.2f} ms, RSS {s['rss_end']:.1f} MB, "
                    f"CPU/req Conduit {s['conduit_us']:.0f} µs PG {s['pg_us']:.0f} µs, others' "
                    f"CPU {100 * s['others']:.0f}%, load {s['load']:.2f}, dead rows {s['dead']:,}")
            if server.proc.poll() is not None:
                sys.exit(f"Conduit exited with {server.proc.returncode}: see {server.log.name}")
    finally:
        if server:
            server.stop()
        if not args.keep_db:
            drop(database)

    print()
    print(f"Soak: {count} × {args.sample_seconds} s at {rate:.0f} req/s (open loop, "
          f"{SOAK_CONNECTIONS} connections), 4:1 W2 (anonymous and signed in) : W5, on "
          f"{database} ({data}).")
    print()
    print(table(samples, args.sample_seconds))
    print()
    reasons, figures = verdict(samples, rate, args.p99_ratio, args.rss_growth)
    print(figures)
    if reasons:
        print("FAIL")
        for reason in reasons:
            print(f"- {reason}")
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
