#!/usr/bin/env python3
"""Server CPU time for each maximal input (issue 16, item 1).

    cargo build --release
    python3 scripts/input_cpu.py [--binary PATH] [--repeat 3] [--body-limit 1048576]

Starts the release binary (default `$CARGO_TARGET_DIR/release/conduit`, else
`target/release/conduit`) on a scratch database on the PostgreSQL at
`--server` (created by the binary at start, dropped on exit), with the cost budget off
and the sign-in throttle out of reach, registers a user with one article, then sends
each maximal input (the largest value a body of `--body-limit` bytes can carry on that
input path) `--repeat` times, one at a time. For each it reads the server's user+system
CPU time from `/proc/<pid>/stat` before and after, and prints a table: CPU milliseconds
per request (clock-tick resolution, usually 10 ms), the request's size, and the answer's
`extensions.code` and `fieldErrors` fields. Nothing is asserted: it is a measurement, to
compare a build before and after. Standard library only.
"""

import argparse
import atexit
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat (every thread's); counted from the
    # state field (field 3), after the command name, they are at 11 and 12.
    return int(fields[11]) + int(fields[12])


class Server:
    def __init__(self, binary, server_url, body_limit):
        self.port = free_port()
        self.db = f"conduit_input_cpu_{os.getpid()}"
        self.server_url = server_url
        env = dict(os.environ)
        env.update(
            {
                "APP_ENV": "development",
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "DATABASE_URL": f"{server_url}/{self.db}",
                "DEMO_DATA": "false", "FRONTEND_BUILD": "false",
                "COST_BUDGET_PER_MINUTE": "0",
                "AUTH_ATTEMPTS_PER_ACCOUNT": "1000000",
                "AUTH_ATTEMPTS_PER_IP": "1000000",
                "REPORT_SQL_STATEMENTS": "false",
                "BODY_LIMIT_BYTES": str(body_limit),
                "REQUEST_TIMEOUT_MS": "600000",
                "LOG_FORMAT": "json",
                "RUST_LOG": "warn",
            }
        )
        self.log = open(os.devnull, "w")
        self.proc = subprocess.Popen([binary], env=env, stdout=self.log, stderr=self.log)
        atexit.register(self.stop)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit("the server did not start")
                time.sleep(0.2)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        subprocess.run(
            ["psql", self.server_url + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {self.db}"],
            capture_output=True,
        )

    def post(self, query, variables=None, token=None):
        body = json.dumps(
            {"query": query, "variables": variables or {}}, separators=(",", ":")
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=body,
            headers={"content-type": "application/json"},
        )
        if token:
            request.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                return len(body), json.load(response)
        except urllib.error.HTTPError as err:
            return len(body), {"errors": [{"extensions": {"code": f"HTTP {err.code}"}}]}


def outcome(answer):
    errors = answer.get("errors") or []
    if not errors:
        return "ok", ""
    extensions = errors[0].get("extensions", {})
    fields = ",".join(e["field"] for e in extensions.get("fieldErrors", []))
    return extensions.get("code", "?"), fields


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=os.path.join(target, "release", "conduit"))
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--body-limit", type=int, default=1_048_576)
    parser.add_argument("--only", default="", help="run only inputs whose name has this")
    args = parser.parse_args()

    server = Server(args.binary, args.server, args.body_limit)
    _, answer = server.post(
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
        {"i": {"username": "cpu", "email": "cpu@example.com", "password": "cpu-password"}},
    )
    token = answer["data"]["register"]["accessToken"]
    user_id = answer["data"]["register"]["user"]["id"]
    server.post(
        "mutation($i: CreateArticleInput!) { createArticle(input: $i) { slug } }",
        {"i": {"title": "Mine", "description": "d", "body": "b"}},
        token,
    )

    room = args.body_limit - 4096
    huge = "x" * room
    tags = [format(i, "x") for i in range(room // 9)]
    ids = [user_id] * (room // (len(user_id) + 3))
    # Well-formed notification IDs (`Notification:1`), each of which would decode.
    notification_ids = ["Tm90aWZpY2F0aW9uOjE"] * (room // 22)
    create = "mutation($i: CreateArticleInput!) { createArticle(input: $i) { id } }"
    update = "mutation($s: String!, $i: UpdateArticleInput!) { updateArticle(slug: $s, input: $i) { id } }"
    register = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }"
    viewer = "mutation($i: UpdateViewerInput!) { updateViewer(input: $i) { id } }"
    article = {"title": "T", "description": "d", "body": "b"}
    account = {"username": "someone", "email": "someone@example.com", "password": "a password"}
    cases = [
        (f"createArticle tags ({len(tags)} distinct)", create, {"i": {**article, "tags": tags}}, token),
        (f"updateArticle tags ({len(tags)} distinct)", update, {"s": "mine", "i": {"tags": tags}}, token),
        ("createArticle title", create, {"i": {**article, "title": huge}}, token),
        ("createArticle description", create, {"i": {**article, "description": huge}}, token),
        ("createArticle body", create, {"i": {**article, "body": huge}}, token),
        ("updateArticle body", update, {"s": "mine", "i": {"body": huge}}, token),
        ("addComment body", "mutation($s: String!, $b: String!) { addComment(articleSlug: $s, body: $b) { id } }", {"s": "mine", "b": huge}, token),
        ("register username", register, {"i": {**account, "username": huge}}, None),
        ("register email", register, {"i": {**account, "email": huge}}, None),
        ("register password", register, {"i": {**account, "password": huge}}, None),
        ("login password", "mutation($i: LoginInput!) { login(input: $i) { accessToken } }", {"i": {"email": "cpu@example.com", "password": huge}}, None),
        ("changePassword newPassword", "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }", {"c": "wrong-password", "n": huge}, token),
        ("updateViewer bio", viewer, {"i": {"bio": huge}}, token),
        ("updateViewer image", viewer, {"i": {"image": huge}}, token),
        (f"nodes ids ({len(ids)})", "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}, None),
        (f"markNotificationsRead ids ({len(notification_ids)})", "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }", {"ids": notification_ids}, token),
        ("node id", "query($id: ID!) { node(id: $id) { id } }", {"id": huge}, None),
        ("articles after", "query($c: String) { articles(first: 5, after: $c) { totalCount } }", {"c": huge}, None),
        ("articles tag", "query($t: String) { articles(first: 5, tag: $t) { totalCount } }", {"t": huge}, None),
        ("article slug", "query($s: String!) { article(slug: $s) { id } }", {"s": huge}, None),
        ("updateArticle slug", update, {"s": huge, "i": {"body": "new"}}, token),
        ("followUser username", "mutation($u: String!) { followUser(username: $u) { id } }", {"u": huge}, token),
        ("user username", "query($u: String!) { user(username: $u) { id } }", {"u": huge}, None),
    ]

    print(f"{'input':<42} {'bytes':>9} {'cpu ms/req':>10}  code (fields)")
    for name, query, variables, auth in cases:
        if args.only not in name:
            continue
        before = cpu_ticks(server.proc.pid)
        for _ in range(args.repeat):
            size, answer = server.post(query, variables, auth)
        used = cpu_ticks(server.proc.pid) - before
        code, fields = outcome(answer)
        ms = used * 1000 / TICK / args.repeat
        shown = f"{code} ({fields})" if fields else code
        print(f"{name:<42} {size:>9} {ms:>10.0f}  {shown}", flush=True)


if __name__ == "__main__":
    main()
