"""Shared pieces of the fault drills: building and running the `conduit` binary, raw HTTP
exchanges that tell a complete response from a cut-off one, and a minimal
graphql-transport-ws client. Python 3.11 standard library only.
"""

import base64
import json
import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(message):
    print(message, flush=True)


def binary(build=True):
    """The debug `conduit` binary of this checkout, built first unless `build` is False."""
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    if build:
        subprocess.run(
            ["cargo", "build", "--quiet", "--bin", "conduit"], cwd=REPO, check=True
        )
    path = os.path.join(target, "debug", "conduit")
    if not os.path.exists(path):
        sys.exit(f"no binary at {path}: build it with `cargo build --bin conduit`")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Conduit:
    """The real server process on a free port, with JSON logs collected from stdout."""

    def __init__(self, exe, env, startup_timeout=60):
        full = {
            "PATH": os.environ.get("PATH", ""),
            "PORT": "0",
            "LOG_FORMAT": "json",
            "REPORT_SQL_STATEMENTS": "false",
            # The load comes from one address, far above what a person spends: the drills
            # are about faults, not the cost budget.
            "COST_BUDGET_PER_MINUTE": "0",
        }
        full.update(env)
        self.logs = []
        self.lock = threading.Lock()
        self.listening = threading.Event()
        self.addr = None
        self.proc = subprocess.Popen(
            [exe],
            env=full,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.pid = self.proc.pid
        self.stderr = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        threading.Thread(target=self._read_err, daemon=True).start()
        if not self.listening.wait(startup_timeout):
            self.kill()
            sys.exit("conduit did not start:\n" + "".join(self.stderr[-20:]))
        host, port = self.addr.rsplit(":", 1)
        self.host, self.port = host, int(port)

    def _read(self):
        for line in self.proc.stdout:
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"message": line.rstrip()}
            entry["_t"] = time.monotonic()
            with self.lock:
                self.logs.append(entry)
            if entry.get("message") == "listening":
                self.addr = entry.get("addr")
                self.listening.set()

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def log_entries(self, needle):
        with self.lock:
            return [e for e in self.logs if needle in json.dumps(e)]

    def request_ids_seen(self):
        """Request ids of every request the server started processing (needs
        `tower_http::trace=debug` in RUST_LOG for the "started processing" line)."""
        ids = set()
        with self.lock:
            for entry in self.logs:
                for span in entry.get("spans", []):
                    rid = span.get("request_id")
                    if rid:
                        ids.add(rid)
        return ids

    def logs_complete(self, timeout=5):
        """After the process exited: waits until its whole output has been read."""
        self.reader.join(timeout)
        return not self.reader.is_alive()

    def accepted_ports(self):
        """Client ports of every connection the server accepted (needs `axum::serve=trace`
        in RUST_LOG: "connection 127.0.0.1:PORT accepted")."""
        ports = set()
        with self.lock:
            for entry in self.logs:
                message = entry.get("message", "")
                if message.startswith("connection ") and message.endswith(" accepted"):
                    ports.add(int(message.split()[1].rsplit(":", 1)[1]))
        return ports

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        os.kill(self.pid, sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Outcome:
    """What one HTTP exchange came to."""

    __slots__ = ("kind", "status", "body", "detail", "started", "ended", "rid", "sent", "local")

    def __init__(
        self, kind, started, rid, status=None, body=None, detail="", sent=False, local=None
    ):
        self.kind = kind  # "complete", "refused", "no-response", "truncated"
        self.status = status
        self.body = body
        self.detail = detail
        self.started = started
        self.ended = time.monotonic()
        self.rid = rid
        self.sent = sent
        self.local = local  # the client's port: which connection carried it


def read_response(sock):
    """Reads one HTTP/1.1 response; returns (status, headers, body) or raises
    `Incomplete(bytes_read)` when the connection ends first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise Incomplete(len(data))
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise Incomplete(len(head) + 4 + len(rest))
            rest += chunk
        return status, headers, rest[:length]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                chunk = sock.recv(65536)
                if not chunk:
                    raise Incomplete(len(head) + 4 + len(body) + len(rest))
                rest += chunk
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise Incomplete(len(head) + 4 + len(body) + len(rest))
                rest += chunk
            if size == 0:
                return status, headers, body
            body += rest[:size]
            rest = rest[size + 2 :]
    # No length: the body runs to the end of the connection.
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return status, headers, rest
        rest += chunk


class Incomplete(Exception):
    def __init__(self, received):
        super().__init__(f"connection ended after {received} response bytes")
        self.received = received


class HttpClient:
    """One client connection (kept alive, or a new one per request), reporting each
    exchange as an `Outcome`."""

    def __init__(self, host, port, keep_alive=True, timeout=30):
        self.host, self.port = host, port
        self.keep_alive = keep_alive
        self.timeout = timeout
        self.sock = None

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def request(self, method, path, body=b"", headers=None, rid=None, dribble=None):
        """`dribble=(pieces, seconds)` sends the body in pieces spread over that time."""
        started = time.monotonic()
        reused = self.sock is not None
        if self.sock is None:
            try:
                self.sock = socket.create_connection((self.host, self.port), self.timeout)
            except OSError as err:
                return Outcome("refused", started, rid, detail=f"connect: {err}")
        local = self.sock.getsockname()[1]
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if not self.keep_alive:
            head.append("Connection: close")
        if rid:
            head.append(f"x-request-id: {rid}")
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}")
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        raw_head = ("\r\n".join(head) + "\r\n\r\n").encode()
        sent = False
        try:
            if dribble:
                pieces, seconds = dribble
                self.sock.sendall(raw_head)
                step = max(1, len(body) // pieces)
                for i in range(0, len(body), step):
                    self.sock.sendall(body[i : i + step])
                    if i + step < len(body):
                        time.sleep(seconds / pieces)
            else:
                self.sock.sendall(raw_head + body)
            sent = True
            status, headers_, payload = read_response(self.sock)
        except Incomplete as err:
            self.close()
            kind = "truncated" if err.received else "no-response"
            detail = str(err) + (" (kept-alive connection)" if reused else "")
            return Outcome(kind, started, rid, detail=detail, sent=sent, local=local)
        except OSError as err:
            self.close()
            detail = f"{type(err).__name__}: {err}" + (" (kept-alive connection)" if reused else "")
            return Outcome("no-response", started, rid, detail=detail, sent=sent, local=local)
        if not self.keep_alive or headers_.get("connection", "").lower() == "close":
            self.close()
        return Outcome(
            "complete", started, rid, status=status, body=payload, sent=True, local=local
        )


def graphql_body(query, variables=None):
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def graphql_headers(token=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def classify(outcome):
    """For a complete GraphQL response: ("ok", None), ("error", code-or-None) or
    ("bad", why) for a body that is not GraphQL JSON."""
    try:
        payload = json.loads(outcome.body)
    except ValueError:
        return "bad", f"HTTP {outcome.status}, not JSON: {outcome.body[:80]!r}"
    if not isinstance(payload, dict):
        return "bad", f"HTTP {outcome.status}, not an object"
    errors = payload.get("errors")
    if errors:
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        if None in codes:
            return "error", None
        return "error", ",".join(sorted(codes))
    if outcome.status != 200 or "data" not in payload:
        return "bad", f"HTTP {outcome.status} without errors"
    return "ok", None


def post_graphql(host, port, query, variables=None, token=None):
    """One GraphQL request on a new connection; returns the JSON payload (or exits)."""
    outcome = HttpClient(host, port, keep_alive=False).request(
        "POST", "/graphql", graphql_body(query, variables), graphql_headers(token)
    )
    if outcome.kind != "complete":
        sys.exit(f"request failed: {outcome.kind} {outcome.detail}")
    return json.loads(outcome.body)


def http_get(host, port, path, timeout=5):
    outcome = HttpClient(host, port, keep_alive=False, timeout=timeout).request("GET", path)
    return outcome.status if outcome.kind == "complete" else None


class WebSocket:
    """A minimal WebSocket client (RFC 6455): text frames, ping/pong, close codes."""

    def __init__(self, host, port, path="/graphql", protocol="graphql-transport-ws", timeout=30):
        self.sock = socket.create_connection((host, port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the WebSocket handshake")
            data += chunk
        head, self.buffer = data.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"handshake refused: {head.splitlines()[0]!r}")
        self.send_lock = threading.Lock()

    def send_json(self, value):
        self._send(0x1, json.dumps(value).encode())

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        with self.send_lock:
            self.sock.sendall(header + mask + masked)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection ended without a close frame")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        """The next message: ("text", json), ("close", code, reason); raises EOFError when
        the connection ends without a close frame."""
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", self._read(8))
            payload = self._read(n)
            if opcode == 0x1:
                return ("text", json.loads(payload))
            if opcode == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                try:
                    self._send(0x8, payload[:2])
                except OSError:
                    pass
                return ("close", code, payload[2:].decode(errors="replace"))
            if opcode == 0x9:
                self._send(0xA, payload)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def subscriber(host, port, query, variables, token, events, name):
    """Runs one subscription on its own socket, reporting to the `events` queue:
    ("ready", name), ("next", name), ("complete", name), then one
    ("end", name, how, detail, time) with how "close" (detail: code and reason), "error",
    "no-ack" or "dropped" (the connection ended without a close frame)."""
    ws = None
    try:
        ws = WebSocket(host, port)
        payload = {"authorization": f"Bearer {token}"} if token else {}
        ws.send_json({"type": "connection_init", "payload": payload})
        kind, message = ws.receive()[:2]
        if kind != "text" or message.get("type") != "connection_ack":
            events.put(("end", name, "no-ack", repr(message), time.monotonic()))
            return
        ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        events.put(("ready", name))
        while True:
            frame = ws.receive()
            if frame[0] == "close":
                events.put(("end", name, "close", f"{frame[1]} {frame[2]}", time.monotonic()))
                return
            message = frame[1]
            if message.get("type") == "next":
                if message.get("payload", {}).get("errors"):
                    events.put(("end", name, "error", json.dumps(message), time.monotonic()))
                    return
                events.put(("next", name))
            elif message.get("type") == "complete":
                events.put(("complete", name))
            elif message.get("type") == "error":
                events.put(("end", name, "error", json.dumps(message), time.monotonic()))
                return
    except (OSError, EOFError, ValueError) as err:
        events.put(("end", name, "dropped", f"{type(err).__name__}: {err}", time.monotonic()))
    finally:
        if ws is not None:
            ws.close()


def drain(events, timeout=0):
    out = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            out.append(events.get(timeout=max(0, deadline - time.monotonic())))
        except queue.Empty:
            return out
