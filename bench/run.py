#!/usr/bin/env python3
"""Conduit against its peers, side by side in one run.

    python3 bench/run.py            # the full run (about 25 minutes on 2 cores)
    python3 bench/run.py --smoke    # small data, short runs: seconds per workload (CI)

It seeds a fixed data set into a fresh database (`conduit seed`), starts Conduit (release
build), PostGraphile v4 and the Apollo Server 4 + dataloader peer on it, prepares the
fixtures (a user who follows 50 authors, an article with 50 comments), checks each
workload's answer on each server, then loads them one server at a time with wrk
(bench/wrk/graphql.lua validates every response: any `errors` fails the run) and prints
a table of ratios. `--results FILE` appends the table to a results file (bench/RESULTS.md
for the full run). Standard library only; needs wrk (Debian package), node/npm and
PostgreSQL on 127.0.0.1:5432.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "conduit-demo"

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

SERVERS = {
    "conduit": dict(port=18081, workloads="conduit", processes=1),
    "postgraphile": dict(port=18082, workloads="postgraphile", processes=2),
    "apollo": dict(port=18083, workloads="conduit", processes=2),
    # Another build of Conduit (--baseline), to measure a change side by side.
    "baseline": dict(port=18086, workloads="conduit", processes=1),
}


def log(message):
    print(message, flush=True)


def post(url, query, variables=None, token=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("content-type", "application/json")
    request.add_header("accept", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def ok(url, query, variables=None, token=None):
    try:
        payload = post(url, query, variables, token)
    except OSError as err:
        sys.exit(f"{url}: no answer for {query[:80]!r}: {err}")
    if payload.get("errors") or "data" not in payload:
        sys.exit(f"{url}: errors for {query[:80]!r}: {json.dumps(payload)[:500]}")
    return payload


def psql(database, sql):
    out = subprocess.run(
        ["psql", f"{PG}/{database}", "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def wait_http(url, proc, what, timeout=120):
    started = time.time()
    while time.time() - started < timeout:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            post(url, "{ __typename }")
            return
        except Exception:
            time.sleep(0.3)
    sys.exit(f"{what} did not answer within {timeout} s")


def tree(pid):
    """pid and its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Server:
    def __init__(self, name, command, env, cwd=REPO):
        self.name = name
        self.port = SERVERS[name]["port"] if name in SERVERS else None
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        full = dict(os.environ)
        full.update(env)
        self.proc = subprocess.Popen(command, env=full, cwd=cwd, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def pids(self):
        return tree(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def load(url, bodies, token, concurrency, seconds):
    """One wrk run; returns its figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("\n".join(bodies) + "\n")
        path = f.name
    env = dict(os.environ, BENCH_BODIES=path, BENCH_AUTH=token or "",
               BENCH_PATH=urllib.parse.urlsplit(url).path)
    base = url[: -len(urllib.parse.urlsplit(url).path)]
    threads = min(2, concurrency)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
         "-s", os.path.join(BENCH, "wrk", "graphql.lua"), base],
        env=env, capture_output=True, text=True,
    )
    os.unlink(path)
    figures = None
    sample = None
    for line in out.stdout.splitlines():
        if line.startswith("JSON "):
            figures = json.loads(line[5:])
        elif line.startswith("SAMPLE "):
            sample = line[7:]
    if figures is None:
        sys.exit(f"wrk failed: {out.stdout}\n{out.stderr}")
    if figures["bad"] or figures["socket_errors"]:
        sys.exit(f"{url}: {figures['bad']} bad responses, {figures['socket_errors']} socket "
                 f"errors at concurrency {concurrency}; e.g. {sample}")
    return figures


def measure(server, url, bodies, token, concurrency, seconds):
    """wrk figures plus the server's CPU per request and peak RSS over the run."""
    pids = server.pids()
    peak = [rss_mb(pids)]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.25):
            peak.append(rss_mb(pids))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = cpu_seconds(pids)
    figures = load(url, bodies, token, concurrency, seconds)
    cpu = cpu_seconds(pids) - cpu_before
    stop.set()
    sampler.join()
    requests = figures["requests"]
    return dict(
        rps=requests / (figures["duration_us"] / 1e6),
        p50=figures["p50_us"] / 1000,
        p99=figures["p99_us"] / 1000,
        cpu_us=cpu / max(requests, 1) * 1e6,
        rss=max(peak),
    )


def read_workload(server, name):
    with open(os.path.join(BENCH, "workloads", SERVERS[server]["workloads"], f"{name}.graphql")) as f:
        return f.read()


def bodies_for(server, workload, fixtures):
    """The JSON bodies wrk cycles through for `workload` on `server`."""
    if workload == "W5":
        fav, unfav = read_workload(server, "W5a"), read_workload(server, "W5b")
        return [json.dumps({"query": q, "variables": {"slug": slug}})
                for slug in fixtures["toggle_slugs"] for q in (fav, unfav)]
    variables = {"W1": {"slug": fixtures["slug"]}, "W2": {"first": 20},
                 "W4": {"slug": fixtures["commented_slug"]}}.get(workload, {})
    return [json.dumps({"query": read_workload(server, workload), "variables": variables})]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small data, short runs")
    parser.add_argument("--results", help="append the table to this markdown file")
    parser.add_argument("--only", help="comma-separated workloads to run (e.g. W0,W2)")
    parser.add_argument("--keep-callgrind", metavar="FILE",
                        help="keep callgrind's profile of the W2 requests in FILE "
                             "(read it with callgrind_annotate)")
    parser.add_argument("--baseline", metavar="BINARY",
                        help="also run this Conduit binary (another build) beside the "
                             "current one, for a side-by-side ratio of a change")
    parser.add_argument("--peers", default="postgraphile,apollo",
                        help="comma-separated peers to run beside Conduit (default: both)")
    args = parser.parse_args()
    plan = SMOKE if args.smoke else FULL
    peers = [p for p in args.peers.split(",") if p]
    database = plan["database"]
    started = time.time()

    for tool in ("wrk", "node", "npm", "psql", "cargo"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (wrk: apt-get install wrk)")

    log("== build: cargo build --release; npm ci for the peers")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], cwd=REPO, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    conduit = os.path.join(target, "release", "conduit")
    for peer in peers:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=os.path.join(BENCH, "peers", peer), check=True)

    log(f"== seed {database}: " + ", ".join(f"{k} {v}" for k, v in plan["seed"].items()))
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", database],
                   check=True)
    seed_started = time.time()
    subprocess.run([conduit, "seed"] + [f"--{k}={v}" for k, v in plan["seed"].items()],
                   env=dict(os.environ, DATABASE_URL=f"{PG}/{database}", RUST_LOG="warn"),
                   check=True, stdout=subprocess.DEVNULL)
    log(f"   seeded in {time.time() - seed_started:.1f} s")
    if "postgraphile" in peers:
        subprocess.run(["psql", f"{PG}/{database}", "-qX", "-v", "ON_ERROR_STOP=1", "-f",
                        os.path.join(BENCH, "peers", "postgraphile", "viewer.sql")],
                       check=True, stdout=subprocess.DEVNULL)

    db_url = f"{PG}/{database}"
    # The peers' node-postgres connects in plain text; Conduit's default sslmode=prefer
    # would encrypt every statement against this machine's ssl=on server. Same footing:
    # plain for every server.
    conduit_db_url = f"{db_url}?sslmode=disable"
    servers = {}
    try:
        conduit_env = {
            "DATABASE_URL": conduit_db_url, "DEMO_DATA": "false", "FRONTEND_BUILD": "false", "GRAPHIQL_ENABLED": "false",
            "INTROSPECTION_ENABLED": "false", "REPORT_SQL_STATEMENTS": "true",
            "COST_BUDGET_PER_MINUTE": "0", "AUTH_ATTEMPTS_PER_ACCOUNT": "1000000",
            "AUTH_ATTEMPTS_PER_IP": "1000000", "BENCH_HELLO": "true", "RUST_LOG": "warn",
            "LOG_FORMAT": "json",
        }
        servers["conduit"] = Server("conduit", [conduit], dict(
            conduit_env, PORT=str(SERVERS["conduit"]["port"])))
        if args.baseline:
            servers["baseline"] = Server("baseline", [os.path.abspath(args.baseline)], dict(
                conduit_env, PORT=str(SERVERS["baseline"]["port"])))
        for peer in peers:
            servers[peer] = Server(peer, ["node", "server.js"], {
                "DATABASE_URL": db_url, "PORT": str(SERVERS[peer]["port"]),
                "WORKERS": str(SERVERS[peer]["processes"]), "NODE_ENV": "production",
            }, cwd=os.path.join(BENCH, "peers", peer))
        urls = {name: f"http://127.0.0.1:{SERVERS[name]['port']}/graphql" for name in servers}
        for name, server in servers.items():
            wait_http(urls[name], server.proc, name)
        idle = {name: rss_mb(server.pids()) for name, server in servers.items()}

        fixtures = prepare(urls["conduit"], database)
        log(f"   fixtures: {json.dumps({k: v for k, v in fixtures.items() if k != 'toggle_slugs'})}")

        only = set(args.only.split(",")) if args.only else None
        rows = []
        for workload, signed_in, concurrencies in PLAN:
            if only and workload not in only:
                continue
            if args.smoke:
                concurrencies = SMOKE_CONCURRENCY
            token = login(urls["conduit"], fixtures["email"]) if signed_in else None
            label = f"{workload}{' signed in' if signed_in else ''}"
            statements = check(urls, workload, fixtures, token)
            script = None
            if workload == "W2" and signed_in:
                script = capture_statements(conduit, db_url, bodies_for("conduit", "W2", fixtures)[0],
                                            token)
                if script:
                    log(f"   W2 signed in: Conduit's {len(script)} statements, replayed by pgbench")
            targets = list(servers)
            if workload == "W0":
                targets.append("hello")
            for concurrency in concurrencies:
                results = {name: [] for name in targets}
                for name in targets:
                    server = servers["conduit" if name == "hello" else name]
                    url = (urls["conduit"].replace("/graphql", "/hello") if name == "hello"
                           else urls[name])
                    bodies = (bodies_for("conduit", "W0", fixtures) if name == "hello"
                              else bodies_for(name, workload, fixtures))
                    load(url, bodies, token, concurrency, plan["warmup"])
                for _ in range(plan["runs"]):
                    for name in targets:
                        server = servers["conduit" if name == "hello" else name]
                        url = (urls["conduit"].replace("/graphql", "/hello") if name == "hello"
                               else urls[name])
                        bodies = (bodies_for("conduit", "W0", fixtures) if name == "hello"
                                  else bodies_for(name, workload, fixtures))
                        results[name].append(measure(server, url, bodies, token, concurrency,
                                                     plan["duration"]))
                medians = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                           for name, runs in results.items()}
                if script:
                    ceiling = statistics.median(
                        pgbench(database, script, concurrency, plan["duration"])
                        for _ in range(plan["runs"]))
                    medians["pgbench"] = dict(rps=ceiling, p50=0, p99=0, cpu_us=0, rss=0)
                rows.append((label, concurrency, medians, statements))
                log(line(label, concurrency, medians, statements))
        instructions = None
        if not only or "W2" in only:
            log("== callgrind: instructions per W2 request (signed in)")
            instructions = callgrind(conduit, db_url, bodies_for("conduit", "W2", fixtures)[0],
                                     login(urls["conduit"], fixtures["email"]),
                                     20 if args.smoke else 100, args.keep_callgrind)
        report = table(rows, idle, plan, args.smoke, time.time() - started, instructions)
        print()
        print(report)
        if args.results:
            with open(args.results, "a") as f:
                f.write("\n" + report + "\n")
    finally:
        for server in servers.values():
            server.stop()
        if args.smoke:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force",
                            database], check=False)


PG_LOG = os.environ.get("BENCH_PG_LOG", "/var/log/postgresql/postgresql-15-main.log")
PARAMETER = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")


def capture_statements(conduit, db_url, body, token):
    """The SQL statements Conduit sends for one request, with their parameters as
    literals: a second instance logs every statement (`log_statement=all` on its
    connections), read back from the PostgreSQL server's log."""
    if not os.access(PG_LOG, os.R_OK):
        return None
    url = db_url + "?options=-c%20log_statement%3Dall"
    server = Server("capture", [conduit], {
        "DATABASE_URL": url, "PORT": "18084", "DEMO_DATA": "false", "FRONTEND_BUILD": "false", "DATABASE_POOL_SIZE": "1",
        "COST_BUDGET_PER_MINUTE": "0", "RUST_LOG": "warn",
    })
    try:
        wait_http("http://127.0.0.1:18084/graphql", server.proc, "capture instance")
        offset = os.path.getsize(PG_LOG)
        body = json.loads(body)
        ok("http://127.0.0.1:18084/graphql", body["query"], body["variables"], token)
        time.sleep(0.5)
        with open(PG_LOG, errors="replace") as f:
            f.seek(offset)
            text = f.read()
    finally:
        server.stop()
    statements = []
    for entry in re.split(r"\n(?=\d{4}-\d\d-\d\d )", text):
        found = re.search(r"LOG:  (?:execute [^:]*|statement): (.*)", entry, re.S)
        if found and not found.group(1).startswith("SET "):
            statements.append([found.group(1).strip(), {}])
        detail = re.search(r"DETAIL:  parameters: (.*)", entry, re.S)
        if detail and statements:
            statements[-1][1] = dict(PARAMETER.findall(detail.group(1)))
    script = []
    for sql, parameters in statements:
        for n in sorted(parameters, key=int, reverse=True):
            sql = sql.replace(f"${n}", parameters[n])
        script.append(" ".join(sql.split()) + ";")
    return script


def pgbench(database, script, concurrency, seconds):
    """Requests per second pgbench reaches replaying `script` (one request's statements
    per transaction) at `concurrency`."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\n".join(script) + "\n")
        path = f.name
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", "-f", path, "-c", str(concurrency),
         "-j", str(min(2, concurrency)), "-T", str(seconds), "-h", "127.0.0.1", "-U", "postgres",
         database], capture_output=True, text=True)
    os.unlink(path)
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    if out.returncode != 0 or not tps:
        sys.exit(f"pgbench failed: {out.stdout}\n{out.stderr}")
    return float(tps.group(1))


def callgrind(conduit, db_url, body, token, requests, keep=None):
    """Instructions per W2 request, counted by callgrind (repeatable whatever else the
    machine does): Conduit runs under valgrind with instrumentation off; after a warm-up,
    instrumentation is turned on for `requests` requests and the counts are dumped. With
    `keep`, the profile of those requests is copied there."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        return None
    directory = tempfile.mkdtemp(prefix="bench-callgrind-")
    out = os.path.join(directory, "callgrind.out")
    url = "http://127.0.0.1:18085/graphql"
    server = Server("callgrind", ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                  f"--callgrind-out-file={out}", conduit], {
        "DATABASE_URL": f"{db_url}?sslmode=disable", "PORT": "18085", "DEMO_DATA": "false", "FRONTEND_BUILD": "false",
        "RUST_LOG": "warn",
        "COST_BUDGET_PER_MINUTE": "0", "GRAPHIQL_ENABLED": "false",
        "INTROSPECTION_ENABLED": "false", "REPORT_SQL_STATEMENTS": "true",
    })
    body = json.loads(body)
    try:
        wait_http(url, server.proc, "the callgrind instance", timeout=600)
        for _ in range(5):
            ok(url, body["query"], body["variables"], token)
        pid = str(server.proc.pid)
        subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
        for _ in range(requests):
            ok(url, body["query"], body["variables"], token)
        subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
        time.sleep(1)
    finally:
        server.stop()
    total = 0
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), errors="replace") as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    if int(line.split()[1]) > total:
                        total = int(line.split()[1])
                        profile = os.path.join(directory, name)
    if keep and total:
        shutil.copyfile(profile, keep)
        log(f"callgrind profile kept in {keep}")
    shutil.rmtree(directory, ignore_errors=True)
    return total / requests if total else None


def login(url, email):
    payload = ok(url, "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
                      "{ accessToken } }", {"e": email, "p": PASSWORD})
    return payload["data"]["login"]["accessToken"]


def prepare(url, database):
    """A reader who follows exactly 50 authors, an article with at least 50 comments, and
    articles to toggle favorites on; all made through Conduit's API."""
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
    return dict(email=email, slug=first_slug, commented_slug=slug, toggle_slugs=toggle)


def check(urls, workload, fixtures, token):
    """Each server answers the workload without errors; returns Conduit's SQL statements
    per request (its `extensions.sqlStatements`)."""
    statements = None
    for name, url in urls.items():
        for body in bodies_for(name, workload, fixtures)[:2]:
            body = json.loads(body)
            payload = ok(url, body["query"], body["variables"], token)
            if name == "conduit":
                statements = payload.get("extensions", {}).get("sqlStatements", statements)
    return statements


def line(label, concurrency, medians, statements):
    parts = [f"{label:<14} c={concurrency:<3}"]
    for name, m in medians.items():
        if name == "pgbench":
            parts.append(f"pgbench ceiling: {m['rps']:8.0f} req/s")
            continue
        parts.append(f"{name}: {m['rps']:8.0f} req/s p50 {m['p50']:6.2f} p99 {m['p99']:6.2f} ms "
                     f"cpu {m['cpu_us']:6.0f} µs rss {m['rss']:5.0f} MB")
    return " | ".join(parts) + f" | conduit SQL/req {statements}"


def ratio(a, b):
    return f"{a / b:.2f}×" if b else "—"


def table(rows, idle, plan, smoke, elapsed, instructions=None):
    baseline = any("baseline" in m for _, _, m, _ in rows)
    machine = f"{platform.node()}, {os.cpu_count()} cores, {platform.machine()}"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"## {'Smoke run' if smoke else 'Run'} {when}",
           "",
           f"Machine: {machine}. Data: " + ", ".join(f"{v:,} {k}" for k, v in plan["seed"].items())
           + f". {plan['runs']} × {plan['duration']} s per cell after {plan['warmup']} s warm-up, "
             f"medians. Processes: Conduit 1 (tokio, all cores), PostGraphile "
             f"{SERVERS['postgraphile']['processes']}, Apollo {SERVERS['apollo']['processes']}. "
             f"Whole run: {elapsed / 60:.1f} min.",
           "",
           "| workload | c | Conduit req/s | vs PostGraphile | vs Apollo | p99 ms C / PG / A "
           "| CPU µs/req C / PG / A | peak RSS MB C / PG / A | Conduit SQL/req |"
           + (" vs baseline |" if baseline else ""),
           "|---|---|---|---|---|---|---|---|---|" + ("---|" if baseline else "")]
    none = dict(rps=0, p99=0, cpu_us=0, rss=0)
    for label, concurrency, m, statements in rows:
        c, pg, ap = m["conduit"], m.get("postgraphile", none), m.get("apollo", none)
        extra = ""
        if "hello" in m:
            extra = f" (hello {m['hello']['rps']:.0f}: {ratio(c['rps'], m['hello']['rps'])})"
        if "pgbench" in m:
            extra = (f" (pgbench ceiling {m['pgbench']['rps']:.0f}: "
                     f"{ratio(c['rps'], m['pgbench']['rps'])})")
        out.append(
            f"| {label} | {concurrency} | {c['rps']:.0f}{extra} | {ratio(c['rps'], pg['rps'])} "
            f"| {ratio(c['rps'], ap['rps'])} | {c['p99']:.1f} / {pg['p99']:.1f} / {ap['p99']:.1f} "
            f"| {c['cpu_us']:.0f} / {pg['cpu_us']:.0f} / {ap['cpu_us']:.0f} "
            f"| {c['rss']:.0f} / {pg['rss']:.0f} / {ap['rss']:.0f} | {statements} |"
            + (f" {ratio(c['rps'], m['baseline']['rps'])} |" if baseline else ""))
    out.append("")
    out.append("Idle RSS before load (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in idle.items()) + ".")
    if instructions:
        out.append(f"Instructions per W2 request (signed in, callgrind, Conduit only): "
                   f"{instructions / 1e6:.2f} M.")
    return "\n".join(out)


if __name__ == "__main__":
    main()
