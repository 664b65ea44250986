#!/usr/bin/env python3
"""Conduit against its peers, side by side in one run.

    python3 bench/run.py            # the full run (about 45 minutes on 2 cores)
    python3 bench/run.py --smoke    # small data, short runs: seconds per workload (CI)

It starts its own PostgreSQL cluster (pg_stat_statements loaded; `--pg URL` uses an
existing server), seeds a fixed data set (`conduit seed`), starts Conduit (release build)
and every peer of bench/peers/*/peer.json on it, prepares the fixtures (a user who
follows 50 authors, an article with 50 comments), checks every workload's answer on each
peer against Conduit's (the peer's compare script: any difference fails the run), then
loads the servers one at a time with wrk (bench/wrk/graphql.lua validates every
response: any `errors` fails the run) and prints a table of ratios, p99, CPU, RSS and
statements per request. `--results FILE` appends the table to a results file
(bench/RESULTS.md for the full run). Standard library only; needs wrk (Debian package),
node/npm, psql/pgbench and PostgreSQL's server programs (initdb).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from harness import ceiling, cluster, peers as peer_list
from harness.load import load, measure, summarize
from harness.proc import (  # noqa: F401  (BENCH, cpu_seconds, rss_mb: for bench/soak.py)
    BENCH, REPO, Server, cpu_seconds, log, ok, rss_each, rss_mb, wait_http,
)
from harness.report import line, table

PASSWORD = "conduit-demo"
# The machine's server, for scripts that run on it (bench/soak.py); run.py itself uses
# its own cluster unless --pg.
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def psql(database, sql):
    """`sql` on `database` of the machine's server (PG); its unaligned output."""
    return cluster.existing(PG, None).psql(database, sql)

FULL = dict(
    seed=dict(users=10_000, articles=50_000, comments=250_000, favorites=500_000, follows=100_000),
    duration=10, warmup=3, runs=3, database="conduit_bench",
)
SMOKE = dict(
    seed=dict(users=300, articles=1_500, comments=6_000, favorites=6_000, follows=3_000),
    duration=1, warmup=1, runs=1, database="conduit_bench_smoke",
)

# (workload, signed in, concurrencies); W0 also runs against Conduit's /hello floor.
PLAN = [
    ("W0", False, [1, 16, 64]),
    ("W1", False, [16]),
    ("W2", False, [1, 16, 64]),
    ("W2", True, [1, 16, 64]),
    ("W3", True, [16]),
    ("W4", True, [16]),
    ("W6", False, [16]),
    # Last: the writes change the data the reads see.
    ("W5", True, [16]),
]
SMOKE_CONCURRENCY = [1, 4]
CONDUIT_PORT = 18081
BASELINE_PORT = 18086


def read_workload(directory, name):
    """The document `bench/workloads/<directory>/<name>.graphql`."""
    with open(os.path.join(BENCH, "workloads", directory, f"{name}.graphql")) as f:
        return f.read()


def bodies_for(directory, workload, fixtures):
    """The JSON bodies wrk cycles through for `workload`, from the documents of
    `bench/workloads/<directory>/`."""
    if workload == "W5":
        fav, unfav = read_workload(directory, "W5a"), read_workload(directory, "W5b")
        return [json.dumps({"query": q, "variables": {"slug": slug}})
                for slug in fixtures["toggle_slugs"] for q in (fav, unfav)]
    variables = {"W1": {"slug": fixtures["slug"]}, "W2": {"first": fixtures.get("first", 20)},
                 "W4": {"slug": fixtures["commented_slug"]}}.get(workload, {})
    return [json.dumps({"query": read_workload(directory, workload), "variables": variables})]


def login(url, email):
    """An access token for `email` (the seed's password)."""
    payload = ok(url, "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
                      "{ accessToken } }", {"e": email, "p": PASSWORD})
    return payload["data"]["login"]["accessToken"]


def prepare(url, postgres, database):
    """A reader who follows exactly 50 authors, an article with at least 50 comments, and
    articles to toggle favorites on; all made through Conduit's API."""
    psql = postgres.psql
    email = psql(database, "SELECT email FROM users ORDER BY id LIMIT 1")
    reader_id = int(psql(database, "SELECT id FROM users ORDER BY id LIMIT 1"))
    token = login(url, email)
    psql(database, f"DELETE FROM follows WHERE follower_id = {reader_id}")
    psql(database, f"UPDATE users SET following_count = 0 WHERE id = {reader_id}")
    authors = psql(database, f"SELECT u.username FROM users u WHERE u.id <> {reader_id} AND EXISTS "
                             f"(SELECT 1 FROM articles a WHERE a.author_id = u.id) ORDER BY u.id LIMIT 50")
    for username in authors.splitlines():
        ok(url, "mutation($u: String!) { followUser(username: $u) { username } }", {"u": username}, token)
    slug, count = psql(database, "SELECT slug, comments_count FROM articles "
                                 "ORDER BY comments_count DESC, id LIMIT 1").split("|")
    for i in range(int(count), 50):
        ok(url, "mutation($s: String!, $b: String!) { addComment(articleSlug: $s, body: $b) { id } }",
           {"s": slug, "b": f"Benchmark comment {i}"}, token)
    first_slug = psql(database, "SELECT slug FROM articles ORDER BY id LIMIT 1")
    toggle = psql(database, "SELECT slug FROM articles ORDER BY id DESC LIMIT 50").splitlines()
    return dict(email=email, slug=first_slug, commented_slug=slug, toggle_slugs=toggle, first=20)


def sql_statements(url, workload, fixtures, token):
    """Conduit answers the workload without errors; its `extensions.sqlStatements` (for W5,
    `favorite/unfavorite` of one article)."""
    counts = []
    for body in bodies_for("conduit", workload, fixtures)[:2]:
        body = json.loads(body)
        counts.append(ok(url, body["query"], body["variables"], token)
                      .get("extensions", {}).get("sqlStatements"))
    return "/".join(str(c) for c in counts)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small data, short runs")
    parser.add_argument("--results", help="append the table to this markdown file")
    parser.add_argument("--only", help="comma-separated workloads to load (e.g. W0,W2); the "
                                       "answer checks still cover every workload")
    parser.add_argument("--peers", help="comma-separated peers (bench/peers/<name>) to run beside "
                                        "Conduit, \"\" for none (default: every peer.json; with "
                                        "--smoke, those marked \"smoke\")")
    parser.add_argument("--pg", metavar="URL",
                        help="use this PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432) "
                             "instead of the harness's own cluster")
    parser.add_argument("--database", help="database name (default conduit_bench, smoke: "
                                           "conduit_bench_smoke)")
    parser.add_argument("--keep-callgrind", metavar="FILE",
                        help="keep callgrind's profile of the W2 requests in FILE "
                             "(read it with callgrind_annotate)")
    parser.add_argument("--baseline", metavar="BINARY",
                        help="also run this Conduit binary (another build) beside the "
                             "current one, for a side-by-side ratio of a change")
    parser.add_argument("--baseline-env", metavar="NAME=VALUE", action="append", default=[],
                        help="a setting only the baseline gets (repeatable): with --baseline "
                             "naming the same binary, the ratio of a setting")
    args = parser.parse_args()
    if args.baseline_env and not args.baseline:
        parser.error("--baseline-env needs --baseline")
    if any("=" not in pair for pair in args.baseline_env):
        parser.error("--baseline-env takes NAME=VALUE")
    return args


def main():
    args = arguments()
    plan = SMOKE if args.smoke else FULL
    database = args.database or plan["database"]
    peers = peer_list.select(args.peers, args.smoke)
    started = time.time()

    for tool in ("wrk", "psql", "pgbench", "cargo") + (("node", "npm") if peers else ()):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (wrk: apt-get install wrk)")

    log("== build: cargo build --release; install the peers: " + ", ".join(p.name for p in peers))
    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], cwd=REPO, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    conduit = os.path.join(target, "release", "conduit")
    for peer in peers:
        peer_list.install(peer)

    postgres = None
    servers = {}
    try:
        if args.pg:
            postgres = cluster.existing(args.pg, os.environ.get(
                "BENCH_PG_LOG", "/var/log/postgresql/postgresql-15-main.log"))
            log(f"== PostgreSQL: {args.pg} (--pg)")
            postgres.dropdb(database)
        else:
            postgres = cluster.own_cluster()
            if postgres is None:
                sys.exit("PostgreSQL's server programs (initdb) are missing: install "
                         "postgresql, or give --pg URL")
            log(f"== PostgreSQL: the harness's own cluster on port {postgres.port} "
                f"({postgres.own[0]}, log {postgres.log_path})")

        log(f"== seed {database}: " + ", ".join(f"{k} {v}" for k, v in plan["seed"].items()))
        seed_started = time.time()
        subprocess.run([conduit, "seed"] + [f"--{k}={v}" for k, v in plan["seed"].items()],
                       env=dict(os.environ, DATABASE_URL=postgres.url(database), RUST_LOG="warn"),
                       check=True, stdout=subprocess.DEVNULL)
        log(f"   seeded in {time.time() - seed_started:.1f} s")
        for peer in peers:
            peer_list.setup(peer, postgres, database)
        names = ["conduit"] + (["baseline"] if args.baseline else []) + [p.name for p in peers]
        postgres.prepare(database, names)

        # The peers' node-postgres connects in plain text; Conduit's default sslmode=prefer
        # would encrypt every statement against an ssl=on server (--pg). Same footing: plain
        # for every server. The peers write a notification for every first favorite;
        # Conduit's dedup window (a repeat within an hour writes none) is off to match.
        conduit_env = {
            "DEMO_DATA": "false", "FRONTEND_BUILD": "false", "GRAPHIQL_ENABLED": "false",
            "INTROSPECTION_ENABLED": "false", "REPORT_SQL_STATEMENTS": "true",
            "COST_BUDGET_PER_MINUTE": "0", "AUTH_ATTEMPTS_PER_ACCOUNT": "1000000",
            "AUTH_ATTEMPTS_PER_IP": "1000000", "BENCH_HELLO": "true", "RUST_LOG": "warn",
            "LOG_FORMAT": "json", "NOTIFICATION_DEDUP_WINDOW": "0",
        }

        def conduit_url(name):
            return postgres.url(database, postgres.role(name)) + "?sslmode=disable"

        servers["conduit"] = Server("conduit", [conduit], dict(
            conduit_env, DATABASE_URL=conduit_url("conduit"), PORT=str(CONDUIT_PORT)),
            port=CONDUIT_PORT)
        if args.baseline:
            servers["baseline"] = Server("baseline", [os.path.abspath(args.baseline)], dict(
                conduit_env, DATABASE_URL=conduit_url("baseline"), PORT=str(BASELINE_PORT),
                **dict(pair.split("=", 1) for pair in args.baseline_env)),
                port=BASELINE_PORT)
        for peer in peers:
            servers[peer.name] = peer_list.start(
                peer, postgres.url(database, postgres.role(peer.name)))
        for peer in peers:
            wait_http(servers[peer.name].url, servers[peer.name].proc, peer.label, peer.start_timeout)
        for name in ("conduit", "baseline"):
            if name in servers:
                wait_http(servers[name].url, servers[name].proc, name)
        idle = {name: list(rss_each(server.pids()).values()) for name, server in servers.items()}
        workloads = {"conduit": "conduit", "baseline": "conduit",
                     **{p.name: p.workloads for p in peers}}
        calls = {name: (lambda n=name: postgres.calls(database, n)) for name in servers}

        urls = {name: server.url for name, server in servers.items()}
        fixtures = prepare(urls["conduit"], postgres, database)
        log(f"   fixtures: {json.dumps({k: v for k, v in fixtures.items() if k != 'toggle_slugs'})}")
        token = login(urls["conduit"], fixtures["email"])

        log("== answers: every workload on every peer against Conduit's")
        checked = dict(fixtures, password=PASSWORD, token=token,
                       plan=[{"workload": w, "signed_in": s} for w, s, _ in PLAN])
        for peer in peers:
            peer_list.compare(peer, urls["conduit"], postgres.url(database), checked)

        only = set(args.only.split(",")) if args.only else None
        rows = []
        for workload, signed_in, concurrencies in PLAN:
            if only and workload not in only:
                continue
            if args.smoke:
                concurrencies = SMOKE_CONCURRENCY
            token = login(urls["conduit"], fixtures["email"]) if signed_in else None
            label = f"{workload}{' signed in' if signed_in else ''}"
            statements = sql_statements(urls["conduit"], workload, fixtures, token)
            script = None
            if workload == "W2" and signed_in:
                script = ceiling.capture_statements(
                    conduit, conduit_url("conduit"), bodies_for("conduit", "W2", fixtures)[0],
                    token, postgres.log_path, conduit_env)
                if script:
                    log(f"   W2 signed in: Conduit's {len(script)} statements, replayed by pgbench")
            targets = list(servers) + (["hello"] if workload == "W0" else [])

            def target(name):
                server = servers["conduit" if name == "hello" else name]
                url = urls["conduit"].replace("/graphql", "/hello") if name == "hello" else urls[name]
                bodies = bodies_for(workloads["conduit" if name == "hello" else name],
                                    "W0" if name == "hello" else workload, fixtures)
                return server, url, bodies

            for concurrency in concurrencies:
                results = {name: [] for name in targets}
                for name in targets:
                    _, url, bodies = target(name)
                    load(url, bodies, token, concurrency, plan["warmup"])
                for _ in range(plan["runs"]):
                    for name in targets:
                        server, url, bodies = target(name)
                        results[name].append(measure(
                            server, url, bodies, token, concurrency, plan["duration"],
                            None if name == "hello" else calls[name]))
                medians = {name: summarize(runs) for name, runs in results.items()}
                if script:
                    ceiling_rps = sorted(
                        ceiling.pgbench(postgres, database, script, concurrency, plan["duration"])
                        for _ in range(plan["runs"]))[plan["runs"] // 2]
                    medians["pgbench"] = dict(rps=ceiling_rps)
                rows.append((label, concurrency, medians, statements))
                log(line(label, concurrency, medians, statements))
        instructions = None
        if not only or "W2" in only:
            log("== callgrind: instructions per W2 request (signed in)")
            instructions = ceiling.callgrind(
                conduit, conduit_url("conduit"), bodies_for("conduit", "W2", fixtures)[0],
                login(urls["conduit"], fixtures["email"]), 20 if args.smoke else 100,
                conduit_env, args.keep_callgrind)
        listed = ([("conduit", "Conduit", 1)] + ([("baseline", "baseline", 1)] if args.baseline else [])
                  + [(p.name, p.label, p.processes) for p in peers])
        report = table(rows, listed, idle, plan, args.smoke, time.time() - started, instructions)
        print()
        print(report)
        if args.results:
            with open(args.results, "a") as f:
                f.write("\n" + report + "\n")
    finally:
        for server in servers.values():
            server.stop()
        if postgres and postgres.own:
            postgres.stop()
        elif postgres and args.smoke:
            postgres.dropdb(database)


if __name__ == "__main__":
    main()
