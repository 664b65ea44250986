"""Two figures about Conduit alone: the pgbench ceiling (its own statements for one
request, replayed by pgbench at the same concurrency) and callgrind's instructions per
request."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from .proc import Server, log, ok, wait_http

PARAMETER = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")


def capture_statements(conduit, db_url, body, token, pg_log, env):
    """The SQL statements Conduit sends for one request, with their parameters as
    literals: a second instance logs every statement (`log_statement=all` on its
    connections), read back from the PostgreSQL server's log `pg_log`. None when that log
    cannot be read."""
    if not pg_log or not os.access(pg_log, os.R_OK):
        return None
    url = db_url + ("&" if "?" in db_url else "?") + "options=-c%20log_statement%3Dall"
    server = Server("capture", [conduit], dict(env, DATABASE_URL=url, PORT="18084",
                                                DATABASE_POOL_SIZE="1"), port=18084)
    try:
        wait_http(server.url, server.proc, "capture instance")
        offset = os.path.getsize(pg_log)
        body = json.loads(body)
        ok(server.url, body["query"], body["variables"], token)
        time.sleep(0.5)
        with open(pg_log, errors="replace") as f:
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


def pgbench(postgres, database, script, concurrency, seconds):
    """Requests per second pgbench reaches replaying `script` (one request's statements
    per transaction) at `concurrency`."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\n".join(script) + "\n")
        path = f.name
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", "-f", path, "-c", str(concurrency),
         "-j", str(min(2, concurrency)), "-T", str(seconds), *postgres.client_args(), database],
        capture_output=True, text=True)
    os.unlink(path)
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    if out.returncode != 0 or not tps:
        sys.exit(f"pgbench failed: {out.stdout}\n{out.stderr}")
    return float(tps.group(1))


def callgrind(conduit, db_url, body, token, requests, env, keep=None):
    """Instructions per W2 request, counted by callgrind (repeatable whatever else the
    machine does): Conduit runs under valgrind with instrumentation off; after a warm-up,
    instrumentation is turned on for `requests` requests and the counts are dumped. With
    `keep`, the profile of those requests is copied there. None without valgrind."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        return None
    directory = tempfile.mkdtemp(prefix="bench-callgrind-")
    out = os.path.join(directory, "callgrind.out")
    server = Server("callgrind", ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                  f"--callgrind-out-file={out}", conduit],
                    dict(env, DATABASE_URL=db_url, PORT="18085"), port=18085)
    body = json.loads(body)
    try:
        wait_http(server.url, server.proc, "the callgrind instance", timeout=600)
        for _ in range(5):
            ok(server.url, body["query"], body["variables"], token)
        pid = str(server.proc.pid)
        subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
        for _ in range(requests):
            ok(server.url, body["query"], body["variables"], token)
        subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
        time.sleep(1)
    finally:
        server.stop()
    total = 0
    profile = None
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), errors="replace") as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    if int(line.split()[1]) > total:
                        total = int(line.split()[1])
                        profile = os.path.join(directory, name)
    if keep and profile:
        shutil.copyfile(profile, keep)
        log(f"callgrind profile kept in {keep}")
    shutil.rmtree(directory, ignore_errors=True)
    return total / requests if total else None
