"""HTTP/GraphQL helpers and server processes: a server is a process group started by the
harness (so that a Node cluster's primary and workers stop together), measured through
/proc (CPU time and RSS of each process of its tree)."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH)


def log(message):
    """Progress on stdout, unbuffered."""
    print(message, flush=True)


def post(url, query, variables=None, token=None):
    """One GraphQL POST; the decoded JSON body."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("content-type", "application/json")
    request.add_header("accept", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def ok(url, query, variables=None, token=None):
    """`post`, exiting the run when there is no answer or it has `errors`."""
    try:
        payload = post(url, query, variables, token)
    except OSError as err:
        sys.exit(f"{url}: no answer for {query[:80]!r}: {err}")
    if payload.get("errors") or "data" not in payload:
        sys.exit(f"{url}: errors for {query[:80]!r}: {json.dumps(payload)[:500]}")
    return payload


def wait_http(url, proc, what, timeout=120):
    """Waits until `url` answers `{ __typename }`; exits the run if `proc` dies first."""
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
    """pid and its descendants, pid first."""
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
        p = todo.pop(0)
        found.append(p)
        todo.extend(sorted(children.get(p, [])))
    return found


def cpu_seconds(pids):
    """User + system time of `pids`, in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def rss_each(pids):
    """{pid: resident set in MB} of the `pids` still alive."""
    found = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        found[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return found


def rss_mb(pids):
    """Resident set of `pids` together, in MB."""
    return sum(rss_each(pids).values())


class Server:
    """A server process group with its output in a temporary log file."""

    def __init__(self, name, command, env, cwd=REPO, port=None):
        self.name = name
        self.port = port
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        full = dict(os.environ)
        full.update(env)
        self.proc = subprocess.Popen(command, env=full, cwd=cwd, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def url(self):
        """Its GraphQL endpoint."""
        return f"http://127.0.0.1:{self.port}/graphql"

    def pids(self):
        """The root process (a Node cluster's primary) first, then its descendants."""
        return tree(self.proc.pid)

    def stop(self):
        """SIGTERM to the group, SIGKILL after 15 s."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
